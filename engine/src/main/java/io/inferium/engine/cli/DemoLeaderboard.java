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
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The demo's leaderboard, driven through the public API as a client would: uploads the bundled Iris
 * dataset to category {@code tabular} (once), waits for the benchmark scheduler to run every demo
 * classifier over it through the mempool, then prints the category's leaderboard.
 */
final class DemoLeaderboard {

  static final String CATEGORY = "tabular";
  static final List<String> FUNCTIONS = List.of("iris", "iris-centroid");

  private DemoLeaderboard() {}

  static void show(Vertx vertx, ServerConfig config, String url) throws Exception {
    String key = config.adminKey() != null ? config.adminKey()
        : Files.readString(config.dataDir().toAbsolutePath().resolve("admin.key"), StandardCharsets.UTF_8).strip();
    WebClient client = WebClient.create(vertx);
    try {
      JsonObject datasets = get(client, url + "/api/datasets?category=" + CATEGORY, key);
      boolean present = datasets.getJsonArray("datasets").stream().anyMatch(d -> "iris".equals(((JsonObject) d).getString("name")));
      if (!present) {
        String csv;
        try (InputStream in = DemoLeaderboard.class.getClassLoader().getResourceAsStream("demo/iris.csv")) {
          csv = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        HttpResponse<Buffer> r = client.postAbs(url + "/api/datasets").bearerTokenAuthentication(key)
            .sendJsonObject(new JsonObject().put("name", "iris").put("category", CATEGORY).put("format", "csv")
                .put("content", csv)).await(30, TimeUnit.SECONDS);
        if (r.statusCode() != 201) {
          throw new IllegalStateException("dataset upload answered " + r.statusCode() + ": " + r.bodyAsString());
        }
      }
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
      for (String fn : FUNCTIONS) {
        while (get(client, url + "/api/benchmarks?function=" + fn, key).getJsonArray("runs").stream()
            .noneMatch(r -> "done".equals(((JsonObject) r).getString("state")))) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException("no finished benchmark run of " + fn + " within 3 minutes");
          }
          vertx.timer(200).await(5, TimeUnit.SECONDS);
        }
      }
      JsonObject board = get(client, url + "/api/leaderboard?category=" + CATEGORY, key);
      System.out.println();
      System.out.println(table(board));
      System.out.println("Arena and live leaderboard:");
      System.out.println("  curl -s " + url + "/api/arena/battles -H \"Authorization: Bearer $KEY\" -H 'Content-Type: application/json' \\");
      System.out.println("    -d '{\"category\":\"tabular\",\"input\":{\"inputs\":[{\"name\":\"features\",\"shape\":[1,4],\"datatype\":\"FP32\",\"data\":[6.0,2.7,5.1,1.6]}]}}'");
      System.out.println("  curl -s " + url + "/api/arena/battles/<id>/vote -H \"Authorization: Bearer $KEY\" -d '{\"ranking\":{\"A\":1,\"B\":2}}'");
      System.out.println("  curl -sN " + url + "/api/leaderboard/stream?category=tabular -H \"Authorization: Bearer $KEY\"");
    } finally {
      client.close();
    }
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
