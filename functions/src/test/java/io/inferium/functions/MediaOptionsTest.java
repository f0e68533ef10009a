package io.inferium.functions;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.tensor.DataType;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class MediaOptionsTest {

  private static final String IMAGE = "{\"name\": \"cats\", \"kind\": \"image-classifier\", ";

  @Test
  void aVideoSpecIsAFramePreprocessPlusSamplingAndReadsBackTheSame() {
    FunctionSpec spec = FunctionSpec.fromJson(new JsonObject("{\"name\": \"clips\", \"kind\": \"video\", \"preprocess\": "
        + "{\"size\": 20, \"fps\": 2.5, \"max_frames\": 10}, \"labels\": [\"a\", \"b\"], \"postprocess\": {\"softmax\": true}}"));
    assertEquals(FunctionKind.VIDEO, spec.kind());
    assertEquals(new VideoPreprocess(2.5, 10), spec.media().video());
    assertEquals(20, spec.media().preprocess().width());
    assertEquals(0.4, spec.media().video().time(1), 1e-12);
    JsonObject meta = spec.media().workerMeta(null);
    assertEquals("video", meta.getString("type"));
    assertEquals(ImagePreprocess.fromJson(VideoPreprocess.frameFields(meta)), spec.media().preprocess());
    FunctionSpec again = FunctionSpec.fromJson(spec.toJson());
    assertEquals(spec.media(), again.media());
    assertEquals(100_000, spec.price().perVideoMinuteMicroUsd(), "the list price of a video minute: $0.10");
    assertEquals(5_000, spec.price().chargeVideoMillis(3_000));
    assertEquals(2, spec.price().chargeVideoMillis(1), "rounded up to a whole micro-dollar");
    FunctionSpec defaults = FunctionSpec.fromJson(new JsonObject("{\"name\": \"v\", \"kind\": \"video\", \"preprocess\": {\"size\": 8}}"));
    assertEquals(new VideoPreprocess(1, 16), defaults.media().video());
    assertEquals(VideoPreprocess.Seek.EXACT, defaults.media().video().seek());
    assertFalse(defaults.media().workerMeta(null).containsKey("seek"), "the default is not sent to workers");
    FunctionSpec keyframes = FunctionSpec.fromJson(new JsonObject("{\"name\": \"v\", \"kind\": \"video\", \"preprocess\": "
        + "{\"size\": 8, \"seek\": \"keyframe\"}}"));
    assertEquals(new VideoPreprocess(1, 16, VideoPreprocess.Seek.KEYFRAME), keyframes.media().video());
    assertEquals("keyframe", keyframes.media().workerMeta(null).getString("seek"));
    assertEquals(keyframes.media(), FunctionSpec.fromJson(keyframes.toJson()).media());
    for (String[] bad : new String[][] {{"\"fps\": 0", "preprocess.fps"}, {"\"fps\": 31", "preprocess.fps"},
        {"\"max_frames\": 257", "preprocess.max_frames"}, {"\"max_frames\": 1.5", "preprocess.max_frames"},
        {"\"size\": 1024, \"max_frames\": 256", "preprocess.max_frames"}, {"\"fps\": 1", "preprocess.size"},
        {"\"seek\": \"fast\"", "preprocess.seek"}, {"\"seek\": 1", "preprocess.seek"}}) {
      String json = "{\"name\": \"v\", \"kind\": \"video\", \"preprocess\": {"
          + (bad[0].contains("size") || bad[1].equals("preprocess.size") ? "" : "\"size\": 8, ") + bad[0] + "}}";
      String msg = assertThrows(InvalidSpecException.class, () -> FunctionSpec.fromJson(new JsonObject(json))).getMessage();
      assertTrue(msg.contains("field '" + bad[1] + "'"), msg);
    }
  }

  @Test
  void anImageClassifierSpecParsesWithDefaultsAndReadsBackTheSame() {
    FunctionSpec spec = FunctionSpec.fromJson(new JsonObject(IMAGE + "\"preprocess\": {\"size\": {\"width\": 32, \"height\": 24}, "
        + "\"resize\": \"center-crop\", \"channels\": \"BGR\", \"layout\": \"nhwc\", \"mean\": [0.4, 0.5, 0.6], \"std\": [0.2, 0.2, 0.2]}, "
        + "\"postprocess\": {\"labels\": [\"cat\", \"dog\"], \"top_k\": 1, \"softmax\": true}}"));
    ImagePreprocess p = spec.media().preprocess();
    assertEquals(32, p.width());
    assertEquals(24, p.height());
    assertEquals(ImagePreprocess.Resize.CENTER_CROP, p.resize());
    assertEquals(ImagePreprocess.Channels.BGR, p.channels());
    assertArrayEquals(new long[] {5, 24, 32, 3}, p.shape(5));
    assertEquals(DataType.FP32, p.dtype());
    assertEquals(List.of("cat", "dog"), spec.labels(), "postprocess.labels are the function's labels");
    assertEquals(1, spec.media().postprocess().topK());
    assertEquals(10_000, spec.price().perImageMicroUsd(), "the list price of an image: $0.010");
    assertEquals(30_000, spec.price().chargeImages(3));
    FunctionSpec again = FunctionSpec.fromJson(spec.toJson());
    assertEquals(spec.media().preprocess(), again.media().preprocess());
    assertEquals(spec.media().postprocess(), again.media().postprocess());
    assertEquals(spec.labels(), again.labels());

    FunctionSpec plain = FunctionSpec.fromJson(new JsonObject("{\"name\": \"t\", \"kind\": \"image\", \"preprocess\": {\"size\": 8}, "
        + "\"price\": {\"per_image_micro_usd\": 2500}}"));
    assertEquals(ImagePreprocess.Channels.RGB, plain.media().preprocess().channels());
    assertEquals(ImagePreprocess.Layout.NCHW, plain.media().preprocess().layout());
    assertEquals(List.of(0.0, 0.0, 0.0), plain.media().preprocess().mean());
    assertEquals(2500, plain.price().chargeImages(1));
    assertNull(FunctionSpec.fromJson(new JsonObject("{\"name\": \"t\"}")).media());
  }

  @Test
  void anAudioSpecParsesAndIsBilledByTheMinute() {
    FunctionSpec spec = FunctionSpec.fromJson(new JsonObject("{\"name\": \"tones\", \"kind\": \"audio\", \"preprocess\": "
        + "{\"sample_rate\": 8000, \"seconds\": 1.5, \"mono\": \"first\"}, \"postprocess\": {\"labels\": [\"a\", \"b\"]}}"));
    AudioPreprocess a = spec.media().audio();
    assertNull(spec.media().preprocess());
    assertEquals(12_000, a.samples());
    assertEquals(AudioPreprocess.Mono.FIRST, a.mono());
    assertEquals(List.of("a", "b"), spec.labels());
    assertEquals(75, spec.price().chargeAudioMillis(1_500), "1.5 s at $0.003 a minute");
    assertEquals(1, spec.price().chargeAudioMillis(1), "rounded up to a whole micro-dollar");
    assertEquals(a, FunctionSpec.fromJson(spec.toJson()).media().audio());
    assertEquals("audio", spec.media().workerMeta(null).getString("type"));
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "\"kind\": \"image-classifier\"| field 'preprocess': a image-classifier function needs it",
      "\"kind\": \"tensor\", \"preprocess\": {\"size\": 8}| field 'preprocess': only media functions",
      "\"kind\": \"image\", \"preprocess\": {\"size\": 0}| field 'preprocess.size': expected an integer in [1, 4096]",
      "\"kind\": \"image\", \"preprocess\": {\"size\": {\"width\": 4096, \"height\": 4096}}| field 'preprocess.size': 4096 × 4096 is more than",
      "\"kind\": \"image\", \"preprocess\": {\"size\": 8, \"channels\": \"cmyk\"}| field 'preprocess.channels': expected one of rgb | bgr | gray",
      "\"kind\": \"image\", \"preprocess\": {\"size\": 8, \"layout\": \"CHW\"}| field 'preprocess.layout'",
      "\"kind\": \"image\", \"preprocess\": {\"size\": 8, \"mean\": [1, 2]}| field 'preprocess.mean': expected 3 numbers",
      "\"kind\": \"image\", \"preprocess\": {\"size\": 8, \"std\": [1, 0, 1]}| field 'preprocess.std[1]'",
      "\"kind\": \"image\", \"preprocess\": {\"size\": 8, \"dtype\": \"UINT8\", \"mean\": [0, 0, 0]}| field 'preprocess.mean': UINT8",
      "\"kind\": \"image\", \"preprocess\": {\"size\": 8, \"dtype\": \"FP64\"}| field 'preprocess.dtype'",
      "\"kind\": \"image\", \"preprocess\": {\"size\": 8, \"gamma\": 2}| field 'preprocess': unknown field 'gamma'",
      "\"kind\": \"image\", \"preprocess\": {\"size\": 8}, \"postprocess\": {\"softmax\": true}| field 'postprocess.softmax'",
      "\"kind\": \"image-classifier\", \"preprocess\": {\"size\": 8}, \"postprocess\": {\"top_k\": 0}| field 'postprocess.top_k'",
      "\"kind\": \"image-embedding\", \"preprocess\": {\"size\": 8}, \"postprocess\": {\"labels\": [\"a\"]}| field 'postprocess.labels'",
      "\"kind\": \"image-classifier\", \"labels\": [\"a\"], \"preprocess\": {\"size\": 8}, \"postprocess\": {\"labels\": [\"b\"]}| differs from field 'labels'",
      "\"kind\": \"image\", \"preprocess\": {\"size\": 8}, \"price\": {\"per_image_micro_usd\": -1}| field 'per_image_micro_usd'",
      "\"kind\": \"audio\", \"preprocess\": {\"sample_rate\": 8000}| field 'preprocess.seconds'",
      "\"kind\": \"audio\", \"preprocess\": {\"sample_rate\": 500, \"seconds\": 1}| field 'preprocess.sample_rate'",
      "\"kind\": \"audio\", \"preprocess\": {\"seconds\": 1, \"mono\": \"right\"}| field 'preprocess.mono'",
      "\"kind\": \"audio\", \"preprocess\": {\"seconds\": 1, \"size\": 8}| field 'preprocess': unknown field 'size'",
      "\"kind\": \"audio\", \"preprocess\": {\"seconds\": 1}, \"postprocess\": {\"normalize\": true}| field 'postprocess.normalize'",
  })
  void badMediaFieldsAreRefusedNamingTheField(String fields, String message) {
    String got = assertThrows(InvalidSpecException.class,
        () -> FunctionSpec.fromJson(new JsonObject("{\"name\": \"x\", " + fields + "}"))).getMessage();
    assertTrue(got.contains(message.strip()), got);
  }
}
