package io.inferium.engine.cli;

import io.inferium.engine.ServerConfig;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The demo's leaderboards, driven through the public API as a client would: uploads the bundled
 * evaluation sets (once) — Iris to {@code tabular}, query/passage pairs to {@code embedding}, next-word,
 * instruction and multiple-choice prompts to {@code text} (see {@code engine/src/test/python/make_text_demo_data.py}) —
 * waits for the benchmark scheduler to run every demo function of each category over each of its
 * datasets through the serving path, then prints each category's leaderboard and the runs behind it.
 */
final class DemoLeaderboard {

  /** A bundled evaluation set: its name, the resource it is read from, and its format. */
  record Dataset(String name, String resource, String format) {}

  /** One category's board: the demo functions on it and the datasets they are scored on. */
  record Board(String category, List<String> functions, List<Dataset> datasets) {}

  static final List<Board> BOARDS = List.of(
      new Board("tabular", List.of("iris", "iris-centroid"), List.of(new Dataset("iris", "demo/iris.csv", "csv"))),
      new Board("embedding", List.of("tiny-embed", "tiny-embed-cls"),
          List.of(new Dataset("corpus-pairs", "demo/embedding-pairs.jsonl", "jsonl"))),
      new Board("text", List.of("tiny-gpt", "tiny-gpt-terse"),
          List.of(new Dataset("next-word", "demo/text-next-word.jsonl", "jsonl"),
              new Dataset("instructions", "demo/text-instructions.jsonl", "jsonl"),
              new Dataset("choice", "demo/text-choice.jsonl", "jsonl"))));

  private DemoLeaderboard() {}

  static void show(Vertx vertx, ServerConfig config, String url) throws Exception {
    String key = config.adminKey() != null ? config.adminKey()
        : Files.readString(config.dataDir().toAbsolutePath().resolve("admin.key"), StandardCharsets.UTF_8).strip();
    WebClient client = WebClient.create(vertx);
    try {
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
      for (Board b : BOARDS) {
        Map<String, String> datasets = upload(client, url, key, b);
        StringBuilder runs = new StringBuilder();
        for (String fn : b.functions()) {
          for (Map.Entry<String, String> ds : datasets.entrySet()) {
            JsonObject run = awaitRun(vertx, client, url, key, fn, ds.getValue(), ds.getKey(), deadline);
            runs.append(String.format(Locale.ROOT, "  %-16s on %-14s %-14s %.4f  %s%n", fn, ds.getKey(),
                run.getString("primary_metric"), run.getDouble("primary_value"), details(run)));
          }
        }
        JsonObject board = get(client, url + "/api/leaderboard?category=" + b.category(), key);
        System.out.println();
        System.out.print(table(board));
        System.out.println("Benchmark runs (MS is 100 x the mean of each function's primary metrics over the datasets):");
        System.out.print(runs);
      }
      System.out.println();
      System.out.println("Arena and live leaderboard:");
      System.out.println("  curl -s " + url + "/api/arena/battles -H \"Authorization: Bearer $KEY\" -H 'Content-Type: application/json' \\");
      System.out.println("    -d '{\"category\":\"tabular\",\"input\":{\"inputs\":[{\"name\":\"features\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[6.0,2.7,5.1,1.6]}]}}'");
      System.out.println("  curl -s " + url + "/api/arena/battles/<id>/vote -H \"Authorization: Bearer $KEY\" -d '{\"ranking\":{\"A\":1,\"B\":2}}'");
      System.out.println("  curl -sN " + url + "/api/leaderboard/stream?category=tabular -H \"Authorization: Bearer $KEY\"");
    } finally {
      client.close();
    }
  }

  /** Uploads the board's datasets that are not there yet; their ids by name. */
  private static Map<String, String> upload(WebClient client, String url, String key, Board b) throws Exception {
    Map<String, String> ids = new LinkedHashMap<>();
    JsonArray present = get(client, url + "/api/datasets?category=" + b.category(), key).getJsonArray("datasets");
    for (Dataset d : b.datasets()) {
      String id = present.stream().map(o -> (JsonObject) o).filter(o -> d.name().equals(o.getString("name")))
          .map(o -> o.getString("id")).findFirst().orElse(null);
      if (id == null) {
        String content;
        try (InputStream in = DemoLeaderboard.class.getClassLoader().getResourceAsStream(d.resource())) {
          content = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        HttpResponse<Buffer> r = client.postAbs(url + "/api/datasets").bearerTokenAuthentication(key)
            .sendJsonObject(new JsonObject().put("name", d.name()).put("category", b.category()).put("format", d.format())
                .put("content", content)).await(30, TimeUnit.SECONDS);
        if (r.statusCode() != 201) {
          throw new IllegalStateException("dataset upload answered " + r.statusCode() + ": " + r.bodyAsString());
        }
        id = r.bodyAsJsonObject().getString("id");
      }
      ids.put(d.name(), id);
    }
    return ids;
  }

  /** The function's newest finished run on the dataset, waiting for the scheduler; a failed run ends the wait. */
  private static JsonObject awaitRun(Vertx vertx, WebClient client, String url, String key, String fn, String datasetId,
      String datasetName, long deadline) throws Exception {
    while (true) {
      for (Object o : get(client, url + "/api/benchmarks?function=" + fn, key).getJsonArray("runs")) {
        JsonObject r = (JsonObject) o;
        if (datasetId.equals(r.getString("dataset_id")) && "done".equals(r.getString("state"))) {
          return r;
        }
        if (datasetId.equals(r.getString("dataset_id")) && "failed".equals(r.getString("state"))) {
          throw new IllegalStateException("the benchmark of " + fn + " on " + datasetName + " failed: " + r.getString("error"));
        }
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("no finished benchmark run of " + fn + " on " + datasetName + " within 5 minutes");
      }
      vertx.timer(200).await(5, TimeUnit.SECONDS);
    }
  }

  /** A run's secondary figures, for the line under the board. */
  private static String details(JsonObject run) {
    JsonObject m = run.getJsonObject("metrics", new JsonObject());
    StringBuilder sb = new StringBuilder();
    for (String k : List.of("accuracy", "recall_at_1", "recall_at_10", "exact_matches", "instruction_level", "acc_norm")) {
      if (m.getValue(k) instanceof Number n) {
        sb.append(k).append(' ').append(n instanceof Double d ? String.format(Locale.ROOT, "%.4f", d) : n).append(", ");
      }
    }
    return sb.append(String.format(Locale.ROOT, "%d rows, p50 %.1f ms, cost %d micro-USD", run.getInteger("rows"),
        run.getDouble("latency_p50_ms"), run.getLong("cost_micro_usd"))).toString();
  }

  private static JsonObject get(WebClient client, String url, String key) throws Exception {
    HttpResponse<Buffer> r = client.getAbs(url).bearerTokenAuthentication(key).send().await(30, TimeUnit.SECONDS);
    if (r.statusCode() != 200) {
      throw new IllegalStateException("GET " + url + " answered " + r.statusCode() + ": " + r.bodyAsString());
    }
    return r.bodyAsJsonObject();
  }

  /** The board as a text table. */
  static String table(JsonObject board) {
    StringBuilder sb = new StringBuilder("Leaderboard, category " + board.getString("category") + " (Total = "
        + board.getDouble("alpha") + "·MS + " + board.getDouble("beta") + "·US)\n");
    sb.append(String.format(Locale.ROOT, "  %-4s %-16s %7s %7s %7s %-22s %-12s %5s  %s%n", "rank", "name", "score", "MS", "US",
        "metric", "type", "users", "arena"));
    JsonArray rows = board.getJsonArray("rows");
    for (int i = 0; i < rows.size(); i++) {
      JsonObject r = rows.getJsonObject(i);
      JsonObject parts = r.getJsonObject("parts");
      JsonObject metric = parts.getJsonObject("metric");
      JsonObject arena = r.getJsonObject("arena");
      sb.append(String.format(Locale.ROOT, "  %-4d %-16s %7.2f %7.2f %7.2f %-22s %-12s %5d  %s%n", r.getInteger("rank"),
          r.getString("name"), r.getDouble("score"), parts.getDouble("metric_score"), parts.getDouble("user_score"),
          metric == null ? "-" : String.format(Locale.ROOT, "%s %.4f", metric.getString("name"), metric.getDouble("value")),
          r.getString("model_type"), r.getLong("users"),
          arena == null ? "-" : String.format(Locale.ROOT, "%.0f [%.0f, %.0f]", arena.getDouble("rating"),
              arena.getDouble("lower"), arena.getDouble("upper"))));
    }
    return sb.toString();
  }

}
