package io.inferium.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.AudioPreprocess;
import io.inferium.functions.ImagePreprocess;
import io.inferium.functions.media.AudioInputs;
import io.inferium.functions.media.ImageInputs;
import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.tensor.Tensors;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.multipart.MultipartForm;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Media in the arena and in benchmarks, through real workers: image classifiers battle on one image (base64 JSON)
 * and audio classifiers on one WAV clip (multipart), each side answering what ONNX Runtime in this JVM answers on
 * the same pre-processing; nothing before the vote names a side (body, headers, errors); another tenant's private
 * function is never drawn; /predict's limits hold (413). Labelled image and clip sets uploaded as zips are
 * benchmarked by the scheduler, and the accuracy each run records is the in-process model's on the same files.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@org.junit.jupiter.api.extension.ExtendWith(SharedMediaGateway.class)
class MediaArenaIT {

  static final String VISION = "vision-arena";
  static final String SOUND = "sound-arena";
  static final List<String> NAMES = List.of("shapes-a", "shapes-b", "shapes-secret", "tones-a", "tones-b");
  static final JsonObject TONES_PRE = new JsonObject().put("sample_rate", 8000).put("seconds", 1);

  static TestGateway gw;
  static String studio;
  static String rival;

  @BeforeAll
  static void start(TestGateway shared) throws Exception {
    gw = shared; // shared by PredictIT and MediaArenaIT, closed at the end of the run (SharedMediaGateway)
    for (String t : List.of("studio", "rival")) {
      assertEquals(201, gw.post("/api/tenants", new JsonObject().put("id", t).put("tier", "enterprise").encode()).statusCode());
    }
    studio = gw.newKey("studio", "developer");
    rival = gw.newKey("rival", "developer");
    JsonObject shapes = new JsonObject().put("kind", "image-classifier").put("category", VISION)
        .put("preprocess", PredictIT.PREPROCESS)
        .put("postprocess", new JsonObject().put("labels", new JsonArray(PredictIT.LABELS)).put("top_k", 3).put("softmax", true));
    JsonObject tones = new JsonObject().put("kind", "audio").put("category", SOUND).put("preprocess", TONES_PRE)
        .put("postprocess", new JsonObject().put("labels", new JsonArray(PredictIT.TONE_LABELS)).put("top_k", 2).put("softmax", true));
    var pool = java.util.concurrent.Executors.newFixedThreadPool(5);
    try {
      List<java.util.concurrent.Future<JsonObject>> ups = List.of(
          pool.submit(() -> deploy(studio, shapes.copy().put("name", "shapes-a"), PredictIT.MODEL)),
          // Another top_k of its own: the battle shows the same k for every side all the same.
          pool.submit(() -> deploy(studio, shapes.copy().put("name", "shapes-b").put("postprocess",
              shapes.getJsonObject("postprocess").copy().put("top_k", 2)), PredictIT.MODEL)),
          pool.submit(() -> deploy(rival, shapes.copy().put("name", "shapes-secret").put("visibility", "private"), PredictIT.MODEL)),
          pool.submit(() -> deploy(studio, tones.copy().put("name", "tones-a"), PredictIT.TONES)),
          pool.submit(() -> deploy(studio, tones.copy().put("name", "tones-b"), PredictIT.TONES)));
      for (var up : ups) {
        JsonObject rec = up.get(150, TimeUnit.SECONDS);
        assertEquals("ready", rec.getString("state"), rec.encodePrettily());
      }
    } finally {
      pool.shutdownNow();
    }
  }

  static JsonObject deploy(String key, JsonObject spec, Path model) throws Exception {
    HttpResponse<Buffer> resp = gw.uploadAs(key, spec.encode(), model);
    assertEquals(202, resp.statusCode(), resp.bodyAsString());
    String path = "/api/functions/" + spec.getString("name") + "/versions/" + resp.bodyAsJsonObject().getInteger("version");
    return TestGateway.poll(path + " to leave verifying", () -> gw.client.get(gw.port(), "127.0.0.1", path)
        .bearerTokenAuthentication(key).send().await(10, TimeUnit.SECONDS).bodyAsJsonObject(),
        now -> !"verifying".equals(now.getString("state")));
  }

  static HttpResponse<Buffer> battle(String key, String category, JsonObject input) throws Exception {
    return gw.postAs(key, "/api/arena/battles", new JsonObject().put("category", category).put("input", input));
  }

  static String b64(byte[] b) {
    return Base64.getEncoder().encodeToString(b);
  }

  /** The model's label for each file, by ONNX Runtime in this JVM on the worker's pre-processing. */
  static List<String> inProcess(List<byte[]> files, boolean audio) throws Exception {
    Tensor input = audio ? AudioInputs.tensor(AudioPreprocess.fromJson(TONES_PRE).withInput("clip"), files, null)
        : ImageInputs.tensor(ImagePreprocess.fromJson(PredictIT.PREPROCESS).withInput("image"), files, null);
    float[] logits = Tensors.toFloatArray(OrtReference.run(audio ? PredictIT.TONES : PredictIT.MODEL, List.of(input)).get(0));
    List<String> labels = audio ? PredictIT.TONE_LABELS : PredictIT.LABELS;
    List<String> out = new ArrayList<>();
    for (int i = 0; i < files.size(); i++) {
      int best = 0;
      for (int j = 1; j < 3; j++) {
        best = logits[i * 3 + j] > logits[i * 3 + best] ? j : best;
      }
      out.add(labels.get(best));
    }
    return out;
  }

  /** Nothing in the answer names a function or worker or measures a model. */
  static void assertHidesIdentities(HttpResponse<Buffer> r) {
    JsonObject body = r.bodyAsJsonObject();
    if (body.getValue("models") instanceof JsonArray models) {
      for (Object m : models) {
        assertEquals(Set.of("id", "label", "predictions"), ((JsonObject) m).fieldNames(), m.toString());
      }
    }
    assertTrue(Set.of("id", "category", "kind", "models", "error").containsAll(body.fieldNames()), body.fieldNames().toString());
    String all = body.encode() + "\n" + r.headers().entries();
    for (String name : NAMES) {
      assertFalse(all.contains(name), "'" + name + "' in " + all);
    }
    for (String leak : List.of("worker", "x-inferium-compute", "x-inferium-queue", "server-timing", "x-inferium-charge", "logits")) {
      assertFalse(all.toLowerCase(Locale.ROOT).contains(leak), "'" + leak + "' in " + all);
    }
  }

  static void assertError(HttpResponse<Buffer> r, int status, String text) {
    assertEquals(status, r.statusCode(), r.bodyAsString());
    assertTrue(r.bodyAsJsonObject().getString("error").contains(text), r.bodyAsString());
  }

  @Test
  @Order(1)
  void imageClassifiersBattleOnOneImageAnonymouslyAndTheVoteRevealsThem() throws Exception {
    byte[] png = Files.readAllBytes(PredictIT.testSet().get(4));
    String expected = inProcess(List.of(png), false).get(0);
    HttpResponse<Buffer> r = battle(studio, VISION, new JsonObject().put("image", b64(png)));
    assertEquals(201, r.statusCode(), r.bodyAsString());
    assertHidesIdentities(r);
    JsonObject b = r.bodyAsJsonObject();
    assertEquals("image-classifier", b.getString("kind"));
    assertEquals(2, b.getJsonArray("models").size(), "rival's private function is not studio's to battle: " + b);
    for (Object m : b.getJsonArray("models")) {
      JsonArray predictions = ((JsonObject) m).getJsonArray("predictions");
      assertEquals(3, predictions.size(), "every side shows the battle's k (3), whatever its own top_k: " + b);
      assertEquals(expected, predictions.getJsonObject(0).getString("label"), b.encode());
    }
    assertError(gw.postAs(rival, "/api/arena/battles/" + b.getString("id") + "/vote",
        new JsonObject().put("ranking", new JsonObject().put("A", 1).put("B", 2))), 404, "no battle");
    HttpResponse<Buffer> voted = gw.postAs(studio, "/api/arena/battles/" + b.getString("id") + "/vote",
        new JsonObject().put("ranking", new JsonObject().put("A", 1).put("B", 2)));
    assertEquals(200, voted.statusCode(), voted.bodyAsString());
    JsonObject reveal = voted.bodyAsJsonObject().getJsonObject("models");
    Set<String> revealed = new HashSet<>();
    for (String label : reveal.fieldNames()) {
      revealed.add(reveal.getJsonObject(label).getString("function"));
      assertEquals(10_000L, reveal.getJsonObject(label).getLong("charge_micro_usd"), "one image at $0.010: " + reveal);
    }
    assertEquals(Set.of("shapes-a", "shapes-b"), revealed);
    JsonObject row = gw.get("/api/leaderboard?category=" + VISION).bodyAsJsonObject().getJsonArray("rows").stream()
        .map(JsonObject.class::cast).filter(x -> x.getString("name").equals("shapes-a")).findFirst().orElseThrow();
    assertEquals(1, row.getJsonObject("arena").getInteger("comparisons"), row.encode());

    // The owner of the private function battles it: three sides.
    HttpResponse<Buffer> own = battle(rival, VISION, new JsonObject().put("image", b64(png)).put("top_k", 1));
    assertEquals(201, own.statusCode(), own.bodyAsString());
    assertEquals(3, own.bodyAsJsonObject().getJsonArray("models").size());
    assertEquals(1, own.bodyAsJsonObject().getJsonArray("models").getJsonObject(0).getJsonArray("predictions").size());
  }

  @Test
  @Order(2)
  void audioClassifiersBattleOnAMultipartClipAndLimitsAndFailuresNameNoSide() throws Exception {
    byte[] clip = PredictIT.wav(16_000, 1, 1, 2000);
    String expected = inProcess(List.of(clip), true).get(0);
    Path file = Files.createTempFile(gw.dataDir, "clip", ".wav");
    Files.write(file, clip);
    HttpResponse<Buffer> r = gw.client.post(gw.port(), "127.0.0.1", "/api/arena/battles").bearerTokenAuthentication(studio)
        .sendMultipartForm(MultipartForm.create().attribute("category", SOUND)
            .binaryFileUpload("clip", "clip.wav", file.toString(), "audio/wav")).await(60, TimeUnit.SECONDS);
    assertEquals(201, r.statusCode(), r.bodyAsString());
    assertHidesIdentities(r);
    assertEquals("audio", r.bodyAsJsonObject().getString("kind"));
    for (Object m : r.bodyAsJsonObject().getJsonArray("models")) {
      assertEquals(expected, ((JsonObject) m).getJsonArray("predictions").getJsonObject(0).getString("label"));
    }
    HttpResponse<Buffer> allBad = gw.postAs(studio, "/api/arena/battles/" + r.bodyAsJsonObject().getString("id") + "/vote",
        new JsonObject().put("all_bad", true));
    assertEquals(200, allBad.statusCode(), allBad.bodyAsString());
    assertEquals(50L, allBad.bodyAsJsonObject().getJsonObject("models").getJsonObject("A").getLong("charge_micro_usd"),
        "1 s at $0.003 a minute, rounded up");

    // /predict's limits: the request's bytes (1 MiB in tests), the pixels a header declares, the seconds of a clip.
    Path big = Files.createTempFile(gw.dataDir, "big", ".png");
    Files.write(big, new byte[2 << 20]);
    assertError(gw.client.post(gw.port(), "127.0.0.1", "/api/arena/battles").bearerTokenAuthentication(studio)
        .sendMultipartForm(MultipartForm.create().attribute("category", VISION)
            .binaryFileUpload("image", "big.png", big.toString(), "image/png")).await(60, TimeUnit.SECONDS), 413,
        "too large");
    Files.delete(big);
    assertError(battle(studio, VISION, new JsonObject().put("image", b64(PredictIT.pngDeclaring(20_000, 20_000)))), 413,
        "max_pixels");
    byte[] pcm = new byte[601_000];
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    javax.sound.sampled.AudioSystem.write(new javax.sound.sampled.AudioInputStream(new java.io.ByteArrayInputStream(pcm),
        new javax.sound.sampled.AudioFormat(1000, 8, 1, false, false), pcm.length),
        javax.sound.sampled.AudioFileFormat.Type.WAVE, out);
    assertError(battle(studio, SOUND, new JsonObject().put("audio", b64(out.toByteArray()))), 413, "max_seconds");
    assertError(battle(studio, VISION, new JsonObject().put("images", new JsonArray().add(b64(clip)))), 400, "one file");
    assertError(battle(studio, VISION, new JsonObject().put("image", "data:image/png;base64")), 400, "field 'input.image'");
    assertError(battle(studio, VISION, new JsonObject().put("image", b64(PredictIT.pngDeclaring(4, 4))).put("top_k", 0)), 400, "field 'input.top_k'");
    assertError(battle(studio, SOUND, new JsonObject().put("image", b64(Files.readAllBytes(PredictIT.testSet().get(0))))),
        409, "image classifiers");

    // A PNG whose header passes and whose pixels do not decode fails in the workers: told by its label only.
    byte[] corrupt = Files.readAllBytes(PredictIT.testSet().get(2));
    for (int i = 41; i < corrupt.length - 12; i++) {
      corrupt[i] = (byte) (i * 37);
    }
    HttpResponse<Buffer> failed = battle(studio, VISION, new JsonObject().put("image", b64(corrupt)));
    assertError(failed, 400, "failed: it could not take this input");
    assertTrue(failed.bodyAsJsonObject().getString("error").startsWith("model "), failed.bodyAsString());
    assertHidesIdentities(failed);
  }

  static String zip(List<Path> files, List<String> labels) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    StringBuilder csv = new StringBuilder("file,label\n");
    try (ZipOutputStream z = new ZipOutputStream(out)) {
      for (int i = 0; i < files.size(); i++) {
        z.putNextEntry(new ZipEntry("set/" + files.get(i).getFileName()));
        z.write(Files.readAllBytes(files.get(i)));
        z.closeEntry();
        csv.append(files.get(i).getFileName()).append(',').append(labels.get(i)).append('\n');
      }
      z.putNextEntry(new ZipEntry("set/labels.csv"));
      z.write(csv.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
      z.closeEntry();
    }
    return b64(out.toByteArray());
  }

  static JsonObject doneRun(String function, String dataset) {
    return TestGateway.poll(function + "'s run on " + dataset, () -> gw.client.get(gw.port(), "127.0.0.1",
            "/api/benchmarks?function=" + function).bearerTokenAuthentication(studio).send().await(10, TimeUnit.SECONDS)
        .bodyAsJsonObject().getJsonArray("runs").stream().map(JsonObject.class::cast)
        .filter(x -> dataset.equals(x.getString("dataset_id")) && !"running".equals(x.getString("state"))).findFirst()
        .orElse(null), x -> x != null);
  }

  @Test
  @Order(3)
  void labelledImageAndClipSetsAreBenchmarkedWithTheInProcessModelsAccuracy() throws Exception {
    for (boolean audio : List.of(false, true)) {
      List<Path> files;
      try (Stream<Path> s = Files.list(audio ? Path.of("src/test/resources/tones") : PredictIT.TEST_SET)) {
        files = s.sorted().toList();
      }
      List<String> labels = files.stream().map(p -> p.getFileName().toString().replaceAll("^\\d+-|\\.(png|wav)$", "")).toList();
      List<byte[]> bytes = new ArrayList<>();
      for (Path p : files) {
        bytes.add(Files.readAllBytes(p));
      }
      List<String> model = inProcess(bytes, audio);
      int right = 0;
      for (int i = 0; i < labels.size(); i++) {
        right += labels.get(i).equals(model.get(i)) ? 1 : 0;
      }
      double expected = (double) right / labels.size();

      // An admin's category set is approved at once: the scheduler runs it on every classifier of the category.
      String category = audio ? SOUND : VISION;
      HttpResponse<Buffer> up = gw.post("/api/datasets", new JsonObject().put("name", audio ? "tones-set" : "shapes-set")
          .put("category", category).put("format", "zip").put("content", zip(files, labels)).encode());
      assertEquals(201, up.statusCode(), up.bodyAsString());
      assertEquals(files.size(), up.bodyAsJsonObject().getInteger("rows"));
      String dataset = up.bodyAsJsonObject().getString("id");
      for (String fn : audio ? List.of("tones-a", "tones-b") : List.of("shapes-a", "shapes-b")) {
        JsonObject run = doneRun(fn, dataset);
        assertEquals("done", run.getString("state"), run.encode());
        assertEquals("accuracy", run.getString("primary_metric"), run.encode());
        JsonObject m = run.getJsonObject("metrics");
        assertEquals(expected, m.getDouble("accuracy"), 1e-12, "the same files through ONNX Runtime here: " + m);
        assertEquals(expected, run.getDouble("primary_value"), 1e-12);
        assertEquals(2, m.getInteger("k"));
        assertTrue(m.getDouble("top_k_accuracy") >= expected, m.encode());
        assertEquals(files.size(), run.getInteger("rows"));
      }
      JsonObject row = gw.get("/api/leaderboard?category=" + category).bodyAsJsonObject().getJsonArray("rows").stream()
          .map(JsonObject.class::cast).filter(x -> x.getString("name").equals(audio ? "tones-a" : "shapes-a")).findFirst()
          .orElseThrow();
      assertEquals("accuracy", row.getJsonObject("parts").getJsonObject("metric").getString("name"), row.encode());
    }
    // A set with a file over /predict's bounds is refused at upload, naming the file.
    Path bomb = Files.createTempFile(gw.dataDir, "bomb", ".png");
    Files.write(bomb, PredictIT.pngDeclaring(20_000, 20_000));
    HttpResponse<Buffer> bad = gw.post("/api/datasets", new JsonObject().put("name", "bomb").put("category", VISION)
        .put("format", "zip").put("content", zip(List.of(bomb), List.of("circle"))).encode());
    assertError(bad, 413, "file '" + bomb.getFileName() + "'");
    assertTrue(bad.bodyAsString().contains("max_pixels"), bad.bodyAsString());
  }
}
