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
 * Media in the arena and in benchmarks, through real workers: image classifiers battle on one image (base64 JSON),
 * audio classifiers on one WAV clip (multipart) and video functions on one MP4 made here with JCodec (base64 JSON
 * and multipart), each side answering what ONNX Runtime in this JVM answers on the same pre-processing (a video's
 * frames pooled); nothing before the vote names a side (body, headers, errors); another tenant's private function is
 * never drawn; /predict's limits hold (413, and a tier's media seconds); a video side is billed per video minute.
 * Labelled image, clip and video sets uploaded as zips are benchmarked by the scheduler, and the accuracy each run
 * records is the in-process model's on the same files; hostile video sets are refused at upload.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@org.junit.jupiter.api.extension.ExtendWith(SharedMediaGateway.class)
class MediaArenaIT {

  static final String VISION = "vision-arena";
  static final String SOUND = "sound-arena";
  static final String MOTION = "motion-arena";
  static final List<String> NAMES = List.of("shapes-a", "shapes-b", "shapes-secret", "tones-a", "tones-b", "clips-a", "clips-b");
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
    JsonObject clips = new JsonObject().put("kind", "video").put("category", MOTION).put("preprocess", PredictIT.VIDEO_PREPROCESS)
        .put("postprocess", new JsonObject().put("labels", new JsonArray(PredictIT.LABELS)).put("top_k", 3).put("softmax", true));
    var pool = java.util.concurrent.Executors.newFixedThreadPool(7);
    try {
      List<java.util.concurrent.Future<JsonObject>> ups = List.of(
          pool.submit(() -> deploy(studio, shapes.copy().put("name", "shapes-a"), PredictIT.MODEL)),
          // Another top_k of its own: the battle shows the same k for every side all the same.
          pool.submit(() -> deploy(studio, shapes.copy().put("name", "shapes-b").put("postprocess",
              shapes.getJsonObject("postprocess").copy().put("top_k", 2)), PredictIT.MODEL)),
          pool.submit(() -> deploy(rival, shapes.copy().put("name", "shapes-secret").put("visibility", "private"), PredictIT.MODEL)),
          pool.submit(() -> deploy(studio, tones.copy().put("name", "tones-a"), PredictIT.TONES)),
          pool.submit(() -> deploy(studio, tones.copy().put("name", "tones-b"), PredictIT.TONES)),
          pool.submit(() -> deploy(studio, clips.copy().put("name", "clips-a"), PredictIT.MODEL)),
          // Samples more frames: the battle still shows every side alike, and each side bills its own window.
          pool.submit(() -> deploy(studio, clips.copy().put("name", "clips-b").put("preprocess",
              PredictIT.VIDEO_PREPROCESS.copy().put("max_frames", 16)), PredictIT.MODEL)));
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

  /** Each video's pooled label, by ONNX Runtime in this JVM on the worker's decoding: the mean of its frames' softmax. */
  static List<String> inProcessVideos(List<byte[]> videos) throws Exception {
    io.inferium.functions.media.VideoInputs.Frames frames = io.inferium.functions.media.VideoInputs.tensor(
        PredictIT.preprocess(), io.inferium.functions.VideoPreprocess.fromJson(PredictIT.VIDEO_PREPROCESS), videos, null);
    float[] logits = Tensors.toFloatArray(OrtReference.run(PredictIT.MODEL, List.of(frames.input())).get(0));
    List<String> out = new ArrayList<>();
    int row = 0;
    for (int[] slots : frames.slots()) {
      double[] mean = new double[3];
      for (int f = 0; f < slots.length; f++, row++) {
        double[] p = PredictIT.softmax(java.util.Arrays.copyOfRange(logits, row * 3, row * 3 + 3));
        for (int c = 0; c < 3; c++) {
          mean[c] += p[c] / slots.length;
        }
      }
      out.add(PredictIT.LABELS.get(mean[0] >= mean[1] && mean[0] >= mean[2] ? 0 : mean[1] >= mean[2] ? 1 : 2));
    }
    return out;
  }

  static HttpResponse<Buffer> multipartBattle(String key, String category, byte[] file, String name, String type) throws Exception {
    Path path = Files.createTempFile(gw.dataDir, "upload", name);
    try {
      Files.write(path, file);
      return gw.client.post(gw.port(), "127.0.0.1", "/api/arena/battles").bearerTokenAuthentication(key)
          .sendMultipartForm(MultipartForm.create().attribute("category", category).attribute("top_k", "2")
              .binaryFileUpload("file", name, path.toString(), type)).await(60, TimeUnit.SECONDS);
    } finally {
      Files.delete(path);
    }
  }

  @Test
  @Order(4)
  void videoFunctionsBattleOnOneMp4PooledAnonymousAndBilledPerVideoMinute() throws Exception {
    byte[] mp4 = PredictIT.shapesVideo(21);
    String expected = inProcessVideos(List.of(mp4)).get(0);
    HttpResponse<Buffer> r = battle(studio, MOTION, new JsonObject().put("video", b64(mp4)));
    assertEquals(201, r.statusCode(), r.bodyAsString());
    assertHidesIdentities(r);
    assertEquals("true", r.getHeader("X-Inferium-Billed"));
    JsonObject b = r.bodyAsJsonObject();
    assertEquals("video", b.getString("kind"));
    assertEquals(2, b.getJsonArray("models").size());
    for (Object m : b.getJsonArray("models")) {
      JsonArray predictions = ((JsonObject) m).getJsonArray("predictions");
      assertEquals(3, predictions.size(), "the battle's k for every side: " + b);
      assertEquals(expected, predictions.getJsonObject(0).getString("label"), "the frames' pooled label: " + b);
    }
    HttpResponse<Buffer> voted = gw.postAs(studio, "/api/arena/battles/" + b.getString("id") + "/vote",
        new JsonObject().put("ranking", new JsonObject().put("A", 2).put("B", 1)));
    assertEquals(200, voted.statusCode(), voted.bodyAsString());
    JsonObject reveal = voted.bodyAsJsonObject().getJsonObject("models");
    Set<String> revealed = new HashSet<>();
    for (String label : reveal.fieldNames()) {
      revealed.add(reveal.getJsonObject(label).getString("function"));
      assertEquals(5_000L, reveal.getJsonObject(label).getLong("charge_micro_usd"), "3 s at $0.10 a minute: " + reveal);
    }
    assertEquals(Set.of("clips-a", "clips-b"), revealed);

    // Multipart, the caller's k; a scrambled stream passes the box headers and fails in the workers: by label only.
    HttpResponse<Buffer> parts = multipartBattle(studio, MOTION, mp4, "clip.mp4", "video/mp4");
    assertEquals(201, parts.statusCode(), parts.bodyAsString());
    assertEquals(2, parts.bodyAsJsonObject().getJsonArray("models").getJsonObject(1).getJsonArray("predictions").size());
    HttpResponse<Buffer> corrupt = multipartBattle(studio, MOTION, ShapeVideos.scrambled(mp4), "bad.mp4", "video/mp4");
    assertError(corrupt, 400, "failed: it could not take this input");
    assertHidesIdentities(corrupt);
    HttpResponse<Buffer> after = battle(studio, MOTION, new JsonObject().put("video", b64(mp4)));
    assertEquals(201, after.statusCode(), "the workers serve on after the corrupt video: " + after.bodyAsString());

    // /predict's checks on the box headers, before anything runs; the tier's media seconds per side.
    assertError(battle(studio, MOTION, new JsonObject().put("video", b64(java.util.Arrays.copyOf(mp4, mp4.length / 2)))),
        400, "no movie header");
    assertError(multipartBattle(studio, MOTION, "not a video".getBytes(), "x.mp4", "video/mp4"), 400, "not an MP4 file");
    assertError(battle(studio, MOTION, new JsonObject().put("video", b64(ShapeVideos.declaringSeconds(mp4, 601)))), 413,
        "max_video_seconds");
    assertError(battle(studio, MOTION, new JsonObject().put("video", b64(ShapeVideos.withCodec(mp4, "hvc1")))), 415, "not H.264");
    assertError(battle(studio, MOTION, new JsonObject().put("videos", new JsonArray().add(b64(mp4)))), 400, "one file");
    assertError(battle(studio, VISION, new JsonObject().put("video", b64(mp4))), 409, "video functions");
    assertEquals(201, gw.post("/api/tenants", new JsonObject().put("id", "frugal").put("tier", "free").encode()).statusCode());
    String free = gw.newKey("frugal", "user");
    assertError(battle(free, MOTION, new JsonObject().put("video", b64(ShapeVideos.declaringSeconds(mp4, 121)))), 413,
        "max_media_seconds");
  }

  @Test
  @Order(5)
  void aLabelledVideoSetIsBenchmarkedByPooledTopOneAndHostileSetsAre400() throws Exception {
    // Six 2 s videos (4 fps), each of one shape throughout.
    List<Path> files = new ArrayList<>();
    List<String> labels = new ArrayList<>();
    List<byte[]> videos = new ArrayList<>();
    Path dir = Files.createTempDirectory(gw.dataDir, "videos");
    for (int i = 0; i < 6; i++) {
      byte[] mp4 = ShapeVideos.mp4(4, 64, java.util.Collections.nCopies(8, i % 3), 100 + i);
      Path f = dir.resolve("v" + i + ".mp4");
      Files.write(f, mp4);
      files.add(f);
      labels.add(PredictIT.LABELS.get(i % 3));
      videos.add(mp4);
    }
    List<String> model = inProcessVideos(videos);
    int right = 0;
    for (int i = 0; i < labels.size(); i++) {
      right += labels.get(i).equals(model.get(i)) ? 1 : 0;
    }
    double expected = (double) right / labels.size();
    HttpResponse<Buffer> up = gw.post("/api/datasets", new JsonObject().put("name", "clips-set").put("category", MOTION)
        .put("format", "zip").put("content", zip(files, labels)).encode());
    assertEquals(201, up.statusCode(), up.bodyAsString());
    assertEquals(6, up.bodyAsJsonObject().getInteger("rows"));
    String dataset = up.bodyAsJsonObject().getString("id");
    for (String fn : List.of("clips-a", "clips-b")) {
      JsonObject run = doneRun(fn, dataset);
      assertEquals("done", run.getString("state"), run.encode());
      assertEquals("accuracy", run.getString("primary_metric"), run.encode());
      JsonObject m = run.getJsonObject("metrics");
      assertEquals(expected, m.getDouble("accuracy"), 1e-12, "each video's pooled label through ONNX Runtime here: " + m);
      assertEquals(2, m.getInteger("k"));
      assertEquals(6, run.getInteger("rows"));
      // Priced as /predict would: 4 + 2 videos of 2 s, each request's seconds at $0.10 a minute rounded up (13,334 + 6,667).
      assertEquals(20_001L, run.getLong("cost_micro_usd"), run.encode());
    }

    // A set with an entry that is no MP4, a PNG among the videos, a broken MP4, a video over the seconds bound.
    byte[] mp4 = videos.get(0);
    Path text = dir.resolve("notes.mp4");
    Files.writeString(text, "not a video");
    assertError(gw.post("/api/datasets", new JsonObject().put("name", "bad-1").put("category", MOTION).put("format", "zip")
        .put("content", zip(List.of(files.get(0), text), List.of("circle", "circle"))).encode()), 400,
        "'notes.mp4' is not a PNG, JPEG or WebP image, a WAV clip or an MP4 video");
    assertError(gw.post("/api/datasets", new JsonObject().put("name", "bad-2").put("category", MOTION).put("format", "zip")
        .put("content", zip(List.of(files.get(0), PredictIT.testSet().get(0)), List.of("circle", "circle"))).encode()), 400,
        "one kind of media");
    Path broken = dir.resolve("broken.mp4");
    Files.write(broken, java.util.Arrays.copyOf(mp4, mp4.length / 2));
    assertError(gw.post("/api/datasets", new JsonObject().put("name", "bad-3").put("category", MOTION).put("format", "zip")
        .put("content", zip(List.of(broken), List.of("circle"))).encode()), 400, "file 'broken.mp4'): the file is a truncated");
    Path longer = dir.resolve("long.mp4");
    Files.write(longer, ShapeVideos.declaringSeconds(mp4, 601));
    assertError(gw.post("/api/datasets", new JsonObject().put("name", "bad-4").put("category", MOTION).put("format", "zip")
        .put("content", zip(List.of(longer), List.of("circle"))).encode()), 413, "max_video_seconds");
  }
}
