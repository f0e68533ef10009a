package io.inferium.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.ImagePreprocess;
import io.inferium.functions.media.ImageInputs;
import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.tensor.Tensors;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.multipart.MultipartForm;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Image functions end to end on one gateway with a real worker: the shapes classifier made by
 * {@code src/test/python/make_shapes_model.py}, fed real PNG and JPEG files in all three request forms;
 * answers compared with ONNX Runtime in this JVM on the same pre-processing; hostile files refused with
 * clear 4xx while the worker keeps serving; every image billed at the spec's price. Audio too: the tones model on raw
 * samples, and the chirps model on log-mel features the worker computes ({@code make_chirps_model.py}).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@org.junit.jupiter.api.extension.ExtendWith(SharedMediaGateway.class)
class PredictIT {

  static final Path MODEL = Path.of("src/main/resources/demo/shapes.onnx");
  static final Path TEST_SET = Path.of("src/test/resources/shapes");
  /** WebP files made from two of the PNGs by functions/src/test/resources/webp/make.sh (cwebp). */
  static final Path WEBP = Path.of("../functions/src/test/resources/webp");
  static final List<String> LABELS = List.of("circle", "square", "triangle");
  static final JsonObject PREPROCESS = new JsonObject().put("size", 20).put("channels", "rgb").put("layout", "NCHW")
      .put("mean", new JsonArray().add(0.5).add(0.5).add(0.5)).put("std", new JsonArray().add(0.5).add(0.5).add(0.5));

  static TestGateway gw;
  static String key;

  @BeforeAll
  static void start(TestGateway shared) throws Exception {
    gw = shared; // shared by PredictIT and MediaArenaIT, closed at the end of the run (SharedMediaGateway)
    assertEquals(201, gw.post("/api/tenants", "{\"id\":\"pixels\",\"tier\":\"enterprise\"}").statusCode());
    key = gw.newKey("pixels", "developer");
    JsonObject spec = new JsonObject().put("name", "shapes").put("kind", "image-classifier").put("preprocess", PREPROCESS)
        .put("postprocess", new JsonObject().put("labels", new JsonArray(LABELS)).put("top_k", 3).put("softmax", true))
        .put("batching", new JsonObject().put("max_batch_size", 64));
    JsonObject rec = gw.deployAndWait(spec, MODEL);
    assertEquals("ready", rec.getString("state"), rec.encodePrettily());
  }

  static List<Path> testSet() throws Exception {
    try (Stream<Path> files = Files.list(TEST_SET)) {
      return files.filter(p -> p.toString().endsWith(".png")).sorted().toList();
    }
  }

  static ImagePreprocess preprocess() {
    return ImagePreprocess.fromJson(PREPROCESS).withInput("image");
  }

  HttpResponse<Buffer> sendBody(byte[] body, String type) throws Exception {
    return gw.client.post(gw.port(), "127.0.0.1", "/api/functions/shapes/predict").bearerTokenAuthentication(key)
        .putHeader("Content-Type", type).sendBuffer(Buffer.buffer(body)).await(60, TimeUnit.SECONDS);
  }

  HttpResponse<Buffer> sendJson(JsonObject body) throws Exception {
    return gw.postAs(key, "/api/functions/shapes/predict", body);
  }

  static void assertError(HttpResponse<Buffer> resp, int status, String part) {
    assertEquals(status, resp.statusCode(), resp.bodyAsString());
    String error = resp.bodyAsJsonObject().getString("error");
    assertTrue(error.contains(part), "expected '" + part + "' in: " + error);
  }

  /** The gateway's labels for one image equal softmax(ONNX Runtime's logits in this JVM), best first. */
  static void assertSameAnswer(JsonArray predicted, float[] logits) {
    assertSameAnswer(predicted, logits, LABELS);
  }

  static void assertSameAnswer(JsonArray predicted, float[] logits, List<String> labels) {
    double[] p = new double[logits.length];
    double max = Double.NEGATIVE_INFINITY;
    for (float l : logits) {
      max = Math.max(max, l);
    }
    double sum = 0;
    for (int i = 0; i < p.length; i++) {
      p[i] = Math.exp(logits[i] - max);
      sum += p[i];
    }
    int best = 0;
    for (int i = 0; i < p.length; i++) {
      p[i] /= sum;
      best = p[i] > p[best] ? i : best;
    }
    assertEquals(3, predicted.size(), predicted.encode());
    assertEquals(labels.get(best), predicted.getJsonObject(0).getString("label"), predicted.encode());
    for (Object o : predicted) {
      JsonObject label = (JsonObject) o;
      assertEquals(p[label.getInteger("index")], label.getDouble("score"), 1e-6, predicted.encode());
      assertEquals(labels.get(label.getInteger("index")), label.getString("label"));
    }
  }

  /** The model's input for an image, computed here from its decoded pixels without the worker's code. */
  static Tensor independentInput(byte[] png) throws Exception {
    BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
    assertEquals(20, img.getWidth());
    float[] v = new float[3 * 20 * 20];
    for (int y = 0; y < 20; y++) {
      for (int x = 0; x < 20; x++) {
        int rgb = img.getRGB(x, y);
        for (int c = 0; c < 3; c++) {
          int value = (rgb >> (16 - 8 * c)) & 0xff;
          v[(c * 20 + y) * 20 + x] = (float) ((value / 255.0 - 0.5) / 0.5);
        }
      }
    }
    return Tensors.fp32("image", new long[] {1, 3, 20, 20}, v);
  }

  @Test
  @Order(1)
  void aPngBodyIsAnsweredLikeTheModelInProcessAndBilledPerImage() throws Exception {
    byte[] png = Files.readAllBytes(testSet().get(0));
    HttpResponse<Buffer> resp = sendBody(png, "image/png");
    assertEquals(200, resp.statusCode(), resp.bodyAsString());
    JsonObject body = resp.bodyAsJsonObject();
    assertEquals("shapes", body.getString("model_name"));
    float[] logits = Tensors.toFloatArray(OrtReference.run(MODEL, List.of(independentInput(png))).get(0));
    assertSameAnswer(body.getJsonArray("predictions").getJsonArray(0), logits);
    assertEquals("10000", resp.getHeader("X-Inferium-Charge-Micro-Usd"), "the default price of one image: $0.010");
  }

  @Test
  @Order(2)
  void jpegAsMultipartAndBase64JsonAnswerEveryImageAndTheSetIsClassified() throws Exception {
    // A JPEG twice the model's size (so the worker resizes), made here from a test image.
    BufferedImage small = ImageIO.read(testSet().get(1).toFile());
    BufferedImage big = new BufferedImage(40, 40, BufferedImage.TYPE_INT_RGB);
    java.awt.Graphics2D g = big.createGraphics();
    g.drawImage(small, 0, 0, 40, 40, null);
    g.dispose();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertTrue(ImageIO.write(big, "jpeg", out));
    byte[] jpeg = out.toByteArray();
    Path file = Files.createTempFile(gw.dataDir, "shape", ".jpg");
    Files.write(file, jpeg);
    MultipartForm form = MultipartForm.create().binaryFileUpload("image", "shape.jpg", file.toString(), "image/jpeg")
        .attribute("top_k", "2");
    HttpResponse<Buffer> resp = gw.client.post(gw.port(), "127.0.0.1", "/api/functions/shapes/predict")
        .bearerTokenAuthentication(key).sendMultipartForm(form).await(60, TimeUnit.SECONDS);
    assertEquals(200, resp.statusCode(), resp.bodyAsString());
    JsonArray top2 = resp.bodyAsJsonObject().getJsonArray("predictions").getJsonArray(0);
    assertEquals(2, top2.size(), "the caller's top_k");
    Tensor input = ImageInputs.tensor(preprocess(), List.of(jpeg), null);
    float[] logits = Tensors.toFloatArray(OrtReference.run(MODEL, List.of(input)).get(0));
    JsonArray all = sendJson(new JsonObject().put("image", "data:image/jpeg;base64," + Base64.getEncoder().encodeToString(jpeg)))
        .bodyAsJsonObject().getJsonArray("predictions").getJsonArray(0);
    assertSameAnswer(all, logits);
    assertEquals(all.getJsonObject(0), top2.getJsonObject(0));

    // The whole committed test set in one request: one answer per image, in order, and the model is right.
    JsonArray images = new JsonArray();
    List<String> expected = new ArrayList<>();
    for (Path p : testSet()) {
      images.add(Base64.getEncoder().encodeToString(Files.readAllBytes(p)));
      expected.add(p.getFileName().toString().replaceAll("^\\d+-|\\.png$", ""));
    }
    HttpResponse<Buffer> set = sendJson(new JsonObject().put("images", images).put("top_k", 1));
    assertEquals(200, set.statusCode(), set.bodyAsString());
    JsonArray predictions = set.bodyAsJsonObject().getJsonArray("predictions");
    assertEquals(expected.size(), predictions.size());
    int right = 0;
    for (int i = 0; i < expected.size(); i++) {
      right += expected.get(i).equals(predictions.getJsonArray(i).getJsonObject(0).getString("label")) ? 1 : 0;
    }
    assertTrue(right >= expected.size() * 9 / 10, right + " of " + expected.size() + " right");
    assertEquals(Long.toString(10_000L * expected.size()), set.getHeader("X-Inferium-Charge-Micro-Usd"));
  }

  @Test
  @Order(2)
  void webpLossyLosslessAndExtendedAreAnsweredLikeTheModelInProcessOnTheSamePixels() throws Exception {
    byte[] lossless = Files.readAllBytes(WEBP.resolve("lossless.webp"));
    // Lossless: the decoded pixels are the PNG's it was made from, and the answer is ONNX Runtime's on them.
    Tensor pixels = independentInput(lossless);
    assertArrayEquals(Tensors.toFloatArray(independentInput(Files.readAllBytes(testSet().get(2)))), Tensors.toFloatArray(pixels));
    HttpResponse<Buffer> resp = sendBody(lossless, "image/webp");
    assertEquals(200, resp.statusCode(), resp.bodyAsString());
    assertSameAnswer(resp.bodyAsJsonObject().getJsonArray("predictions").getJsonArray(0),
        Tensors.toFloatArray(OrtReference.run(MODEL, List.of(pixels)).get(0)));
    assertEquals("10000", resp.getHeader("X-Inferium-Charge-Micro-Usd"));

    // Lossy (VP8) as a multipart file, extended (VP8X + VP8 + EXIF) as a base64 data URL: each like ONNX Runtime on the
    // pixels this JVM decodes from the same bytes.
    byte[] lossy = Files.readAllBytes(WEBP.resolve("lossy.webp"));
    MultipartForm form = MultipartForm.create().binaryFileUpload("image", "circle.webp", WEBP.resolve("lossy.webp").toString(),
        "image/webp");
    HttpResponse<Buffer> multipart = gw.client.post(gw.port(), "127.0.0.1", "/api/functions/shapes/predict")
        .bearerTokenAuthentication(key).sendMultipartForm(form).await(60, TimeUnit.SECONDS);
    assertEquals(200, multipart.statusCode(), multipart.bodyAsString());
    assertSameAnswer(multipart.bodyAsJsonObject().getJsonArray("predictions").getJsonArray(0),
        Tensors.toFloatArray(OrtReference.run(MODEL, List.of(independentInput(lossy))).get(0)));
    byte[] extended = Files.readAllBytes(WEBP.resolve("extended.webp"));
    HttpResponse<Buffer> json = sendJson(new JsonObject().put("image", "data:image/webp;base64,"
        + Base64.getEncoder().encodeToString(extended)));
    assertEquals(200, json.statusCode(), json.bodyAsString());
    assertSameAnswer(json.bodyAsJsonObject().getJsonArray("predictions").getJsonArray(0),
        Tensors.toFloatArray(OrtReference.run(MODEL, List.of(independentInput(extended))).get(0)));
    assertEquals("circle", json.bodyAsJsonObject().getJsonArray("predictions").getJsonArray(0).getJsonObject(0)
        .getString("label"), "the circle the WebP was made from");
  }

  @Test
  @Order(3)
  void hostileFilesAreClear4xxAndTheWorkerKeepsServing() throws Exception {
    byte[] png = Files.readAllBytes(testSet().get(2));
    String worker = sendBody(png, "image/png").getHeader("X-Inferium-Worker");

    // Checked in the gateway from the header, nothing decoded there.
    assertError(sendBody(Arrays.copyOf(png, 20), "image/png"), 400, "truncated or malformed PNG");
    assertError(sendBody(png, "image/jpeg"), 400, "Content-Type says image/jpeg");
    assertError(sendBody("RIFF\0\0\0\0WEBPVP8 ".getBytes(), "image/webp"), 400, "truncated WebP");
    assertError(sendBody(Files.readAllBytes(WEBP.resolve("animated.webp")), "image/webp"), 415, "animated WebP");
    assertError(sendBody("GIF89a".getBytes(), "image/gif"), 415, "image/png, image/jpeg, image/webp");
    assertError(sendBody("hello".getBytes(), "text/plain"), 415, "text/plain");
    byte[] bomb = pngDeclaring(20_000, 20_000);
    assertError(sendBody(bomb, "image/png"), 413, "max_pixels");
    JsonArray tooMany = new JsonArray();
    for (int i = 0; i < 65; i++) {
      tooMany.add(Base64.getEncoder().encodeToString(png));
    }
    assertError(sendJson(new JsonObject().put("images", tooMany)), 413, "max_images");
    assertError(sendJson(new JsonObject().put("images", new JsonArray().add("not base64!"))), 400, "images[0]");
    assertError(sendJson(new JsonObject().put("picture", "x")), 400, "field 'picture'");

    // Passes the header check, fails in the worker's decoder: a 400, alone, though it shared a batch with good ones.
    byte[] corrupt = png.clone();
    for (int i = 41; i < corrupt.length - 12; i++) {
      corrupt[i] = (byte) (i * 37);
    }
    JsonArray mixed = new JsonArray().add(Base64.getEncoder().encodeToString(png))
        .add(Base64.getEncoder().encodeToString(corrupt));
    assertError(sendJson(new JsonObject().put("images", mixed)), 400, "image 1");
    assertError(sendBody(corrupt, "image/png"), 400, "could not be decoded");

    HttpResponse<Buffer> after = sendBody(png, "image/png");
    assertEquals(200, after.statusCode(), after.bodyAsString());
    assertEquals(worker, after.getHeader("X-Inferium-Worker"), "the same worker process still serves");
  }

  @Test
  @Order(4)
  void specsThatDoNotFitTheModelAreRefusedNamingTheField() throws Exception {
    JsonObject base = new JsonObject().put("name", "shapes-bad").put("kind", "image-classifier");
    assertError(gw.upload(base.encode(), MODEL), 400, "field 'preprocess'");
    assertError(gw.upload(base.copy().put("preprocess", PREPROCESS.copy().put("size", 28)).encode(), MODEL), 400,
        "field 'preprocess.size.height'");
    JsonObject gray = PREPROCESS.copy().put("channels", "gray").put("mean", new JsonArray().add(0.5))
        .put("std", new JsonArray().add(0.5));
    assertError(gw.upload(base.copy().put("preprocess", gray).encode(), MODEL), 400, "field 'preprocess.channels'");
    assertError(gw.upload(base.copy().put("preprocess", PREPROCESS.copy().put("layout", "NHWC")).encode(), MODEL), 400,
        "field 'preprocess.size.height'");
    assertError(gw.upload(base.copy().put("preprocess", PREPROCESS.copy().put("dtype", "UINT8").put("mean", null)
        .put("std", null)).encode(), MODEL), 400, "field 'preprocess.dtype'");
    assertError(gw.upload(base.copy().put("preprocess", PREPROCESS.copy().put("mean", new JsonArray().add(0.5))).encode(),
        MODEL), 400, "field 'preprocess.mean'");
    assertError(gw.upload(base.copy().put("preprocess", PREPROCESS).put("postprocess", new JsonObject().put("output", "probs"))
        .encode(), MODEL), 400, "field 'postprocess.output'");
    assertError(gw.upload(base.copy().put("kind", "tensor").put("preprocess", PREPROCESS).encode(), MODEL), 400,
        "field 'preprocess'");
    // A tensor function has no predict route.
    JsonObject add = gw.deployAndWait(new JsonObject().put("name", "plain-add"), TestGateway.model("add.onnx"));
    assertEquals("ready", add.getString("state"));
    assertError(sendBodyTo("plain-add", Files.readAllBytes(testSet().get(0))), 400, "/v2/models/plain-add/infer");
  }

  HttpResponse<Buffer> sendBodyTo(String function, byte[] body) throws Exception {
    return gw.client.post(gw.port(), "127.0.0.1", "/api/functions/" + function + "/predict").bearerTokenAuthentication(key)
        .putHeader("Content-Type", "image/png").sendBuffer(Buffer.buffer(body)).await(60, TimeUnit.SECONDS);
  }

  static final Path TONES = Path.of("src/main/resources/demo/tones.onnx");
  static final List<String> TONE_LABELS = List.of("low", "mid", "high");

  /** A WAV of {@code seconds} of a {@code hz} tone, 16-bit PCM, {@code channels} channels (the second at half level). */
  static byte[] wav(int rate, int channels, double seconds, double hz) throws Exception {
    int frames = (int) (rate * seconds);
    byte[] pcm = new byte[frames * channels * 2];
    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(pcm).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < frames; i++) {
      double v = 0.5 * Math.sin(2 * Math.PI * hz * i / rate);
      for (int c = 0; c < channels; c++) {
        b.putShort((short) Math.round(v / (c + 1) * 32767));
      }
    }
    javax.sound.sampled.AudioFormat format = new javax.sound.sampled.AudioFormat(rate, 16, channels, true, false);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    javax.sound.sampled.AudioSystem.write(new javax.sound.sampled.AudioInputStream(new ByteArrayInputStream(pcm), format, frames),
        javax.sound.sampled.AudioFileFormat.Type.WAVE, out);
    return out.toByteArray();
  }

  HttpResponse<Buffer> sendTo(String function, byte[] body, String type) throws Exception {
    return gw.client.post(gw.port(), "127.0.0.1", "/api/functions/" + function + "/predict").bearerTokenAuthentication(key)
        .putHeader("Content-Type", type).sendBuffer(Buffer.buffer(body)).await(60, TimeUnit.SECONDS);
  }

  @Test
  @Order(6)
  void aWavClipIsMixedResampledAndClassifiedLikeTheModelInProcessAndBilledByTheMinute() throws Exception {
    JsonObject spec = new JsonObject().put("name", "tones").put("kind", "audio")
        .put("preprocess", new JsonObject().put("sample_rate", 8000).put("seconds", 1))
        .put("postprocess", new JsonObject().put("labels", new JsonArray(TONE_LABELS)).put("top_k", 3).put("softmax", true));
    JsonObject rec = gw.deployAndWait(spec, TONES);
    assertEquals("ready", rec.getString("state"), rec.encodePrettily());
    assertError(gw.upload(spec.copy().put("name", "tones-bad").put("preprocess", new JsonObject().put("sample_rate", 8000)
        .put("seconds", 2)).encode(), TONES), 400, "field 'preprocess.seconds'");

    // 1.5 s of a 300 Hz tone, stereo at 16 kHz: the worker mixes it to mono, resamples to 8 kHz and keeps the first second.
    byte[] clip = wav(16_000, 2, 1.5, 300);
    HttpResponse<Buffer> resp = sendTo("tones", clip, "audio/wav");
    assertEquals(200, resp.statusCode(), resp.bodyAsString());
    Tensor input = io.inferium.functions.media.AudioInputs.tensor(io.inferium.functions.AudioPreprocess.fromJson(
        spec.getJsonObject("preprocess")).withInput("clip"), List.of(clip), null);
    float[] logits = Tensors.toFloatArray(OrtReference.run(TONES, List.of(input)).get(0));
    JsonArray predicted = resp.bodyAsJsonObject().getJsonArray("predictions").getJsonArray(0);
    assertSameAnswer(predicted, logits, TONE_LABELS);
    assertEquals("low", predicted.getJsonObject(0).getString("label"));
    assertEquals("75", resp.getHeader("X-Inferium-Charge-Micro-Usd"), "1.5 s at $0.003 a minute = 75 µ$");

    JsonArray clips = new JsonArray();
    List<String> expected = new ArrayList<>();
    try (Stream<Path> files = Files.list(Path.of("src/test/resources/tones"))) {
      for (Path p : files.sorted().toList()) {
        clips.add(Base64.getEncoder().encodeToString(Files.readAllBytes(p)));
        expected.add(p.getFileName().toString().replaceAll("^\\d+-|\\.wav$", ""));
      }
    }
    HttpResponse<Buffer> set = gw.postAs(key, "/api/functions/tones/predict", new JsonObject().put("clips", clips).put("top_k", 1));
    assertEquals(200, set.statusCode(), set.bodyAsString());
    int right = 0;
    for (int i = 0; i < expected.size(); i++) {
      right += expected.get(i).equals(set.bodyAsJsonObject().getJsonArray("predictions").getJsonArray(i).getJsonObject(0)
          .getString("label")) ? 1 : 0;
    }
    assertTrue(right >= expected.size() - 1, right + " of " + expected.size() + " right");
    assertEquals("600", set.getHeader("X-Inferium-Charge-Micro-Usd"), "12 one-second clips: 12 s at $0.003 a minute");
  }

  @Test
  @Order(7)
  void hostileClipsAreClear4xxAndTheWorkerKeepsServing() throws Exception {
    byte[] clip = wav(8000, 1, 1, 2000);
    HttpResponse<Buffer> before = sendTo("tones", clip, "audio/wav");
    assertEquals(200, before.statusCode(), before.bodyAsString());
    assertError(sendTo("tones", Arrays.copyOf(clip, 30), "audio/wav"), 400, "clip 0");
    assertError(sendTo("tones", "fLaC\0\0\0\0".getBytes(), "audio/wav"), 415, "audio/wav");
    assertError(sendTo("tones", Files.readAllBytes(testSet().get(0)), "image/png"), 415, "audio/wav");
    byte[] adpcm = clip.clone();
    adpcm[20] = 2; // format code 2: MS ADPCM
    assertError(sendTo("tones", adpcm, "audio/wav"), 415, "compressed WAV");
    // 601 s of 8-bit mono at 1 kHz: real bytes, over the limit of 600 s.
    byte[] pcm = new byte[601_000];
    javax.sound.sampled.AudioFormat format = new javax.sound.sampled.AudioFormat(1000, 8, 1, false, false);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    javax.sound.sampled.AudioSystem.write(new javax.sound.sampled.AudioInputStream(new ByteArrayInputStream(pcm), format,
        pcm.length), javax.sound.sampled.AudioFileFormat.Type.WAVE, out);
    assertError(sendTo("tones", out.toByteArray(), "audio/wav"), 413, "max_seconds");
    HttpResponse<Buffer> after = sendTo("tones", clip, "audio/wav");
    assertEquals(200, after.statusCode(), after.bodyAsString());
    assertEquals(before.getHeader("X-Inferium-Worker"), after.getHeader("X-Inferium-Worker"), "the same worker process still serves");
    assertEquals(before.bodyAsJsonObject().getJsonArray("predictions"), after.bodyAsJsonObject().getJsonArray("predictions"));
  }

  @Test
  @Order(8)
  void embeddingAndTensorKindsAndV2TensorsServeTheSameModel() throws Exception {
    JsonObject embed = gw.deployAndWait(new JsonObject().put("name", "shapes-embed").put("kind", "image-embedding")
        .put("preprocess", PREPROCESS).put("postprocess", new JsonObject().put("normalize", true)), MODEL);
    assertEquals("ready", embed.getString("state"), embed.encodePrettily());
    JsonObject raw = gw.deployAndWait(new JsonObject().put("name", "shapes-raw").put("kind", "image")
        .put("preprocess", PREPROCESS), MODEL);
    assertEquals("ready", raw.getString("state"), raw.encodePrettily());
    byte[] png = Files.readAllBytes(testSet().get(3));
    Tensor input = independentInput(png);
    float[] logits = Tensors.toFloatArray(OrtReference.run(MODEL, List.of(input)).get(0));
    double norm = 0;
    for (float l : logits) {
      norm += (double) l * l;
    }
    norm = Math.sqrt(norm);

    HttpResponse<Buffer> e = sendBodyTo("shapes-embed", png);
    assertEquals(200, e.statusCode(), e.bodyAsString());
    JsonArray vector = e.bodyAsJsonObject().getJsonArray("embeddings").getJsonArray(0);
    assertEquals(3, vector.size());
    for (int i = 0; i < 3; i++) {
      assertEquals(logits[i] / norm, vector.getDouble(i), 1e-6, "unit length: " + vector.encode());
    }

    HttpResponse<Buffer> r = sendBodyTo("shapes-raw", png);
    assertEquals(200, r.statusCode(), r.bodyAsString());
    JsonObject out = r.bodyAsJsonObject().getJsonArray("outputs").getJsonObject(0);
    assertEquals("logits", out.getString("name"));
    for (int i = 0; i < 3; i++) {
      assertEquals(logits[i], out.getJsonArray("data").getFloat(i), "the model's own output, untouched");
    }

    // The same image function still takes pre-processed tensors over V2 (the worker pre-processes only encoded files).
    JsonArray data = new JsonArray();
    for (float v : Tensors.toFloatArray(input)) {
      data.add(v);
    }
    HttpResponse<Buffer> v2 = gw.client.post(gw.port(), "127.0.0.1", "/v2/models/shapes/infer").bearerTokenAuthentication(key)
        .sendJsonObject(new JsonObject().put("inputs", new JsonArray().add(new JsonObject().put("name", "image")
            .put("datatype", "FP32").put("shape", new JsonArray().add(1).add(3).add(20).add(20)).put("data", data))))
        .await(60, TimeUnit.SECONDS);
    assertEquals(200, v2.statusCode(), v2.bodyAsString());
    JsonArray v2logits = v2.bodyAsJsonObject().getJsonArray("outputs").getJsonObject(0).getJsonArray("data");
    for (int i = 0; i < 3; i++) {
      assertEquals(logits[i], v2logits.getFloat(i));
    }
  }

  @Test
  @Order(9)
  void theInvoiceHasAnImageLineOfImagesTimesThePrice() throws Exception {
    String month = java.time.YearMonth.now(java.time.ZoneOffset.UTC).toString();
    JsonObject invoice = TestGateway.poll("the image line", () -> gw.client.get(gw.port(), "127.0.0.1",
            "/api/invoices/pixels-" + month).bearerTokenAuthentication(key).send().await(10, TimeUnit.SECONDS).bodyAsJsonObject(),
        inv -> inv.getJsonArray("lines") != null);
    JsonObject line = invoice.getJsonArray("lines").stream().map(JsonObject.class::cast)
        .filter(l -> "image".equals(l.getString("modality")) && "shapes".equals(l.getString("function"))).findFirst().orElseThrow(() -> new AssertionError(invoice.encode()));
    assertEquals("shapes", line.getString("function"));
    long images = line.getLong("units");
    // Billed so far: 1 (png) + 1 (multipart) + 1 (base64) + 30 (the set) + 3 (WebP) + 1 + 1 (before and after the
    // hostile files).
    assertEquals(38, images, invoice.encode());
    assertEquals(images * 10_000, line.getLong("charge_micro_usd"));
    JsonObject audio = invoice.getJsonArray("lines").stream().map(JsonObject.class::cast)
        .filter(l -> "audio".equals(l.getString("modality"))).findFirst().orElseThrow(() -> new AssertionError(invoice.encode()));
    // 2 s (1.5 s rounded up) + 12 s + 1 s + 1 s, charged 75 + 600 + 50 + 50 µ$ (each request's duration at $0.003 a
    // minute, rounded up)
    assertEquals(16, audio.getLong("units"), invoice.encode());
    assertEquals(775, audio.getLong("charge_micro_usd"), invoice.encode());
  }

  static final JsonObject VIDEO_PREPROCESS = PREPROCESS.copy().put("fps", 2).put("max_frames", 8);

  /** 3 s at 4 fps, 64 × 64: a second of circles, one of squares, one of triangles, each frame drawn afresh. */
  static byte[] shapesVideo(long seed) throws Exception {
    List<Integer> kinds = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      kinds.add(i / 4);
    }
    return ShapeVideos.mp4(4, 64, kinds, seed);
  }

  @Test
  @Order(10)
  void anMp4IsSampledClassifiedPerFrameLikeTheModelInProcessPooledAndBilledByTheVideoMinute() throws Exception {
    JsonObject spec = new JsonObject().put("name", "shapes-video").put("kind", "video").put("preprocess", VIDEO_PREPROCESS)
        .put("postprocess", new JsonObject().put("labels", new JsonArray(LABELS)).put("top_k", 3).put("softmax", true));
    JsonObject rec = gw.deployAndWait(spec, MODEL);
    assertEquals("ready", rec.getString("state"), rec.encodePrettily());
    assertError(gw.upload(spec.copy().put("name", "video-bad").put("preprocess", VIDEO_PREPROCESS.copy().put("max_frames", 1000))
        .encode(), MODEL), 400, "field 'preprocess.max_frames'");

    byte[] video = shapesVideo(1);
    HttpResponse<Buffer> resp = sendTo("shapes-video", video, "video/mp4");
    assertEquals(200, resp.statusCode(), resp.bodyAsString());
    // The same frames, decoded and pre-processed as the worker does, through ONNX Runtime in this JVM.
    io.inferium.functions.VideoPreprocess sampling = io.inferium.functions.VideoPreprocess.fromJson(VIDEO_PREPROCESS);
    io.inferium.functions.media.VideoInputs.Frames frames = io.inferium.functions.media.VideoInputs.tensor(
        preprocess(), sampling, List.of(video), null);
    float[] logits = Tensors.toFloatArray(OrtReference.run(MODEL, List.of(frames.input())).get(0));
    int n = frames.slots()[0].length;
    assertEquals(6, n, "3 s sampled at 2 fps: t = 0, 0.5, ..., 2.5");
    JsonObject body = resp.bodyAsJsonObject();
    JsonArray perFrame = body.getJsonArray("frames").getJsonArray(0);
    assertEquals(n, perFrame.size(), body.encode());
    double[] mean = new double[3];
    int right = 0;
    for (int f = 0; f < n; f++) {
      float[] row = Arrays.copyOfRange(logits, f * 3, f * 3 + 3);
      double[] p = softmax(row);
      int best = p[0] >= p[1] && p[0] >= p[2] ? 0 : p[1] >= p[2] ? 1 : 2;
      JsonObject got = perFrame.getJsonObject(f);
      assertEquals(LABELS.get(best), got.getString("label"), got.encode());
      assertEquals(p[best], got.getDouble("score"), 1e-6);
      assertEquals(f * 0.5, got.getDouble("time"), 1e-9);
      assertEquals(2L * f, got.getLong("source_frame"), "the 4 fps clip's frame shown at the sample's time");
      assertEquals(f * 0.5, got.getDouble("source_time"), 1e-6);
      right += LABELS.get(f / 2).equals(got.getString("label")) ? 1 : 0;
      for (int c = 0; c < 3; c++) {
        mean[c] += p[c] / n;
      }
    }
    assertTrue(right >= 4, right + " of 6 sampled frames show the drawn shape: " + perFrame.encode());
    JsonArray pooled = body.getJsonArray("predictions").getJsonArray(0);
    assertEquals(3, pooled.size());
    for (Object o : pooled) {
      JsonObject label = (JsonObject) o;
      assertEquals(mean[label.getInteger("index")], label.getDouble("score"), 1e-6, pooled.encode());
    }
    assertEquals("5000", resp.getHeader("X-Inferium-Charge-Micro-Usd"), "3 s at $0.10 a minute = 5,000 µ$");

    // Base64 JSON, two videos in one request: one answer each, in order.
    HttpResponse<Buffer> two = gw.postAs(key, "/api/functions/shapes-video/predict", new JsonObject().put("videos",
        new JsonArray().add(Base64.getEncoder().encodeToString(video)).add(Base64.getEncoder().encodeToString(shapesVideo(2)))));
    assertEquals(200, two.statusCode(), two.bodyAsString());
    assertEquals(body.getJsonArray("predictions").getJsonArray(0), two.bodyAsJsonObject().getJsonArray("predictions").getJsonArray(0));
    assertEquals(2, two.bodyAsJsonObject().getJsonArray("frames").size());
    assertEquals("10000", two.getHeader("X-Inferium-Charge-Micro-Usd"), "6 s at $0.10 a minute");

    // "seek": "keyframe": every sample takes the last IDR at or before its time. This clip has one, frame 0 (JCodec's
    // encoder makes one every 25 frames), so all six samples answer frame 0's scores, decoded once.
    JsonObject keyed = spec.copy().put("name", "shapes-keyframes").put("preprocess", VIDEO_PREPROCESS.copy().put("seek", "keyframe"));
    assertEquals("ready", gw.deployAndWait(keyed, MODEL).getString("state"));
    HttpResponse<Buffer> k = sendTo("shapes-keyframes", video, "video/mp4");
    assertEquals(200, k.statusCode(), k.bodyAsString());
    JsonArray keyFrames = k.bodyAsJsonObject().getJsonArray("frames").getJsonArray(0);
    assertEquals(n, keyFrames.size(), keyFrames.encode());
    for (int f = 0; f < n; f++) {
      JsonObject got = keyFrames.getJsonObject(f);
      assertEquals(f * 0.5, got.getDouble("time"), 1e-9);
      assertEquals(0, got.getLong("source_frame"), got.encode());
      assertEquals(0, got.getDouble("source_time"), 1e-9);
      assertEquals(perFrame.getJsonObject(0).getString("label"), got.getString("label"));
      assertEquals(perFrame.getJsonObject(0).getDouble("score"), got.getDouble("score"), 1e-6);
    }
    assertEquals("5000", k.getHeader("X-Inferium-Charge-Micro-Usd"), "billed by the sampled window, as exact is");
  }

  static double[] softmax(float[] logits) {
    double max = Double.NEGATIVE_INFINITY;
    for (float l : logits) {
      max = Math.max(max, l);
    }
    double[] p = new double[logits.length];
    double sum = 0;
    for (int i = 0; i < p.length; i++) {
      p[i] = Math.exp(logits[i] - max);
      sum += p[i];
    }
    for (int i = 0; i < p.length; i++) {
      p[i] /= sum;
    }
    return p;
  }

  @Test
  @Order(11)
  void hostileVideosAreClear4xxAndTheWorkerKeepsServing() throws Exception {
    byte[] video = shapesVideo(3);
    HttpResponse<Buffer> before = sendTo("shapes-video", video, "video/mp4");
    assertEquals(200, before.statusCode(), before.bodyAsString());
    // From the box headers in the gateway.
    assertError(sendTo("shapes-video", Arrays.copyOf(video, video.length / 2), "video/mp4"), 400, "no movie header");
    assertError(sendTo("shapes-video", "not a video at all".getBytes(), "video/mp4"), 400, "not an MP4");
    assertError(sendTo("shapes-video", new byte[] {0x1a, 0x45, (byte) 0xdf, (byte) 0xa3, 0, 0, 0, 0}, "video/mp4"), 415, "WebM");
    assertError(sendTo("shapes-video", ShapeVideos.withCodec(video, "hvc1"), "video/mp4"), 415, "not H.264");
    assertError(sendTo("shapes-video", ShapeVideos.declaringSeconds(video, 601), "video/mp4"), 413, "max_video_seconds");
    assertError(sendTo("shapes-video", ShapeVideos.declaringSize(video, 8192, 8192), "video/mp4"), 413, "max_pixels");
    assertError(sendTo("shapes-video", video, "image/png"), 415, "video/mp4");
    JsonArray five = new JsonArray();
    for (int i = 0; i < 5; i++) {
      five.add(Base64.getEncoder().encodeToString(video));
    }
    assertError(gw.postAs(key, "/api/functions/shapes-video/predict", new JsonObject().put("videos", five)), 413, "max_videos");
    // Headers pass, the coded frames are garbage: the worker's decoder refuses it with a 400.
    assertError(sendTo("shapes-video", ShapeVideos.scrambled(video), "video/mp4"), 400, "video 0");
    HttpResponse<Buffer> after = sendTo("shapes-video", video, "video/mp4");
    assertEquals(200, after.statusCode(), after.bodyAsString());
    assertEquals(before.getHeader("X-Inferium-Worker"), after.getHeader("X-Inferium-Worker"), "the same worker process still serves");
    assertEquals(before.bodyAsJsonObject().getJsonArray("frames"), after.bodyAsJsonObject().getJsonArray("frames"));
  }

  @Test
  @Order(12)
  void tierLimitsPerModalityAre413And429NamingTheLimit() throws Exception {
    // Tier free (tiers.json): 60 images a minute, 300 s of audio and video a minute, 120 s in one request.
    assertEquals(201, gw.post("/api/tenants", "{\"id\":\"thrifty\",\"tier\":\"free\"}").statusCode());
    String free = gw.newKey("thrifty", "user");
    JsonArray images = new JsonArray();
    String png = Base64.getEncoder().encodeToString(Files.readAllBytes(testSet().get(0)));
    for (int i = 0; i < 61; i++) {
      images.add(png);
    }
    assertError(gw.postAs(free, "/api/functions/shapes/predict", new JsonObject().put("images", images)), 413, "images_per_minute");
    byte[] video = shapesVideo(4);
    assertError(sendAs(free, "shapes-video", ShapeVideos.declaringSeconds(video, 121), "video/mp4"), 413, "max_media_seconds");
    // Declaring 100 s (billed only up to the 4 s window the spec samples), three requests fill the minute's 300 s.
    byte[] hundred = ShapeVideos.declaringSeconds(video, 100);
    for (int i = 0; i < 3; i++) {
      HttpResponse<Buffer> ok = sendAs(free, "shapes-video", hundred, "video/mp4");
      assertEquals(200, ok.statusCode(), ok.bodyAsString());
      assertEquals("6667", ok.getHeader("X-Inferium-Charge-Micro-Usd"), "the declared 100 s capped at the 4 s window sampled");
    }
    HttpResponse<Buffer> over = sendAs(free, "shapes-video", hundred, "video/mp4");
    assertError(over, 429, "media_seconds_per_minute");
    assertTrue(Integer.parseInt(over.getHeader("Retry-After")) > 0);
  }

  HttpResponse<Buffer> sendAs(String as, String function, byte[] body, String type) throws Exception {
    return gw.client.post(gw.port(), "127.0.0.1", "/api/functions/" + function + "/predict").bearerTokenAuthentication(as)
        .putHeader("Content-Type", type).sendBuffer(Buffer.buffer(body)).await(60, TimeUnit.SECONDS);
  }

  @Test
  @Order(13)
  void theInvoiceHasAVideoLineOfSecondsAtTenCentsAMinute() throws Exception {
    String month = java.time.YearMonth.now(java.time.ZoneOffset.UTC).toString();
    JsonObject invoice = TestGateway.poll("the video line", () -> gw.client.get(gw.port(), "127.0.0.1",
            "/api/invoices/pixels-" + month).bearerTokenAuthentication(key).send().await(10, TimeUnit.SECONDS).bodyAsJsonObject(),
        inv -> inv.getJsonArray("lines") != null && inv.getJsonArray("lines").stream().map(JsonObject.class::cast)
            .anyMatch(l -> "video".equals(l.getString("modality")) && l.getLong("units") == 15));
    JsonObject line = invoice.getJsonArray("lines").stream().map(JsonObject.class::cast)
        .filter(l -> "video".equals(l.getString("modality")) && "shapes-video".equals(l.getString("function")))
        .findFirst().orElseThrow();
    // 3 s + 6 s + 3 s + 3 s (before and after the hostile videos): 15 s, each request charged at $0.10 a minute.
    assertEquals("shapes-video", line.getString("function"));
    assertEquals(15, line.getLong("units"), invoice.encode());
    assertEquals(25_000, line.getLong("charge_micro_usd"), invoice.encode());
    JsonObject keyframes = invoice.getJsonArray("lines").stream().map(JsonObject.class::cast)
        .filter(l -> "shapes-keyframes".equals(l.getString("function"))).findFirst().orElseThrow();
    assertEquals(3, keyframes.getLong("units"), "the keyframe function's one 3 s clip: " + invoice.encode());
    assertEquals(5_000, keyframes.getLong("charge_micro_usd"), invoice.encode());
  }

  static final Path CHIRPS = Path.of("src/test/resources/chirps.onnx");
  static final List<String> CHIRP_LABELS = List.of("rising", "falling", "steady", "alternating");
  /** What make_chirps_model.py trained on: torchaudio-like HTK filters without normalisation, ln, standardised per clip. */
  static final JsonObject CHIRP_PREPROCESS = new JsonObject().put("sample_rate", 16_000).put("seconds", 1)
      .put("features", new JsonObject().put("type", "log_mel").put("n_fft", 512).put("hop", 160).put("win", 400)
          .put("n_mels", 40).put("fmin", 0).put("fmax", 8000).put("mel_scale", "htk").put("mel_norm", "none").put("log", "ln")
          .put("floor", 1e-6).put("center", true).put("normalize", "per_clip"));

  /** A WAV of an exponential sweep from {@code f0} to {@code f1} Hz over {@code seconds}, with its second harmonic. */
  static byte[] chirpWav(int rate, double seconds, double f0, double f1) throws Exception {
    int frames = (int) (rate * seconds);
    byte[] pcm = new byte[frames * 2];
    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(pcm).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    double k = Math.log(f1 / f0) / seconds;
    for (int i = 0; i < frames; i++) {
      double phase = 2 * Math.PI * f0 * (Math.exp(k * i / rate) - 1) / k;
      b.putShort((short) Math.round((0.4 * Math.sin(phase) + 0.1 * Math.sin(2 * phase)) * 32767));
    }
    javax.sound.sampled.AudioFormat format = new javax.sound.sampled.AudioFormat(rate, 16, 1, true, false);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    javax.sound.sampled.AudioSystem.write(new javax.sound.sampled.AudioInputStream(new ByteArrayInputStream(pcm), format, frames),
        javax.sound.sampled.AudioFileFormat.Type.WAVE, out);
    return out.toByteArray();
  }

  @Test
  @Order(14)
  void aLogMelModelIsFedTheFeaturesItWasTrainedOnAndAMisfitSpecIsRefused() throws Exception {
    JsonObject spec = new JsonObject().put("name", "chirps").put("kind", "audio").put("preprocess", CHIRP_PREPROCESS)
        .put("postprocess", new JsonObject().put("labels", new JsonArray(CHIRP_LABELS)).put("top_k", 3).put("softmax", true));
    JsonObject rec = gw.deployAndWait(spec, CHIRPS);
    assertEquals("ready", rec.getString("state"), rec.encodePrettily());
    JsonObject fewerBands = CHIRP_PREPROCESS.copy();
    fewerBands.getJsonObject("features").put("n_mels", 32);
    assertError(gw.upload(spec.copy().put("name", "chirps-bad").put("preprocess", fewerBands).encode(), CHIRPS), 400,
        "field 'preprocess.features.n_mels': input features: FP32[?,1,40,101] takes 40 mel bands, the spec makes 32; "
            + "expected [N, 32, 101] or [N, 1, 32, 101]");
    assertError(gw.upload(spec.copy().put("name", "tones-mel").put("preprocess", new JsonObject().put("sample_rate", 8000)
        .put("seconds", 1).put("features", new JsonObject().put("type", "log_mel"))).encode(), TONES), 400,
        "field 'preprocess.features': input clip: FP32[?,8000] has rank 2, the log-mel features are [N, 64, 63] or [N, 1, 64, 63]");
    assertError(gw.upload(spec.copy().put("name", "chirps-bad").put("preprocess", CHIRP_PREPROCESS.copy()
        .put("features", CHIRP_PREPROCESS.getJsonObject("features").copy().put("n_fft", 500))).encode(), CHIRPS), 400,
        "field 'preprocess.features.n_fft': expected a power of two");

    // 1.2 s of a sweep up from 500 Hz to 2 kHz at 22.05 kHz: resampled to 16 kHz, trimmed to 1 s, then log-mel in the worker.
    byte[] clip = chirpWav(22_050, 1.2, 500, 2000);
    HttpResponse<Buffer> resp = sendTo("chirps", clip, "audio/wav");
    assertEquals(200, resp.statusCode(), resp.bodyAsString());
    Tensor input = io.inferium.functions.media.AudioInputs.tensor(io.inferium.functions.AudioPreprocess.fromJson(CHIRP_PREPROCESS)
        .withInput("features").withModelRank(4), List.of(clip), null);
    assertEquals(List.of(1L, 1L, 40L, 101L), Arrays.stream(input.shape()).boxed().toList());
    float[] logits = Tensors.toFloatArray(OrtReference.run(CHIRPS, List.of(input)).get(0));
    JsonArray predicted = resp.bodyAsJsonObject().getJsonArray("predictions").getJsonArray(0);
    assertSameAnswer(predicted, logits, CHIRP_LABELS);
    assertEquals("rising", predicted.getJsonObject(0).getString("label"), predicted.encode());
    HttpResponse<Buffer> down = sendTo("chirps", chirpWav(16_000, 1, 2000, 500), "audio/wav");
    assertEquals("falling", down.bodyAsJsonObject().getJsonArray("predictions").getJsonArray(0).getJsonObject(0).getString("label"),
        down.bodyAsString());

    JsonArray clips = new JsonArray();
    List<String> expected = new ArrayList<>();
    try (Stream<Path> files = Files.list(Path.of("src/test/resources/chirps"))) {
      for (Path p : files.sorted().toList()) {
        clips.add(Base64.getEncoder().encodeToString(Files.readAllBytes(p)));
        expected.add(p.getFileName().toString().replaceAll("^\\d+-|\\.wav$", ""));
      }
    }
    HttpResponse<Buffer> set = gw.postAs(key, "/api/functions/chirps/predict", new JsonObject().put("clips", clips).put("top_k", 1));
    assertEquals(200, set.statusCode(), set.bodyAsString());
    int right = 0;
    for (int i = 0; i < expected.size(); i++) {
      right += expected.get(i).equals(set.bodyAsJsonObject().getJsonArray("predictions").getJsonArray(i).getJsonObject(0)
          .getString("label")) ? 1 : 0;
    }
    assertTrue(right >= expected.size() - 1, right + " of " + expected.size() + " held-out clips right");

    // A clip too short for one window is zero-padded to the spec's second, and a broken one is a 400 while the worker serves on.
    HttpResponse<Buffer> tiny = sendTo("chirps", chirpWav(16_000, 0.01, 500, 600), "audio/wav");
    assertEquals(200, tiny.statusCode(), tiny.bodyAsString());
    assertError(sendTo("chirps", Arrays.copyOf(clip, 30), "audio/wav"), 400, "clip 0");
    HttpResponse<Buffer> after = sendTo("chirps", clip, "audio/wav");
    assertEquals(resp.getHeader("X-Inferium-Worker"), after.getHeader("X-Inferium-Worker"), "the same worker process still serves");
    assertEquals(resp.bodyAsJsonObject().getJsonArray("predictions"), after.bodyAsJsonObject().getJsonArray("predictions"));
  }

  /** A real PNG signature and IHDR declaring {@code w × h} pixels over a few bytes. */
  static byte[] pngDeclaring(int w, int h) {
    java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 + 25 + 12);
    b.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a});
    byte[] ihdr = java.nio.ByteBuffer.allocate(17).put("IHDR".getBytes()).putInt(w).putInt(h).put((byte) 8).put((byte) 2)
        .put((byte) 0).put((byte) 0).put((byte) 0).array();
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update(ihdr);
    b.putInt(13).put(ihdr).putInt((int) crc.getValue());
    java.util.zip.CRC32 end = new java.util.zip.CRC32();
    end.update("IEND".getBytes());
    b.putInt(0).put("IEND".getBytes()).putInt((int) end.getValue());
    return b.array();
  }
}
