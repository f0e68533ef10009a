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

  @Test
  void audioFeaturesParseWithLibrosaDefaultsReadBackTheSameAndTakeTheModelInputsRank() {
    FunctionSpec spec = FunctionSpec.fromJson(new JsonObject("{\"name\": \"chirps\", \"kind\": \"audio\", \"preprocess\": "
        + "{\"sample_rate\": 16000, \"seconds\": 1, \"features\": {\"type\": \"log_mel\", \"hop\": 160, \"win\": 400, "
        + "\"n_mels\": 40, \"mel_scale\": \"htk\", \"log\": \"ln\", \"normalize\": \"per_clip\"}}}"));
    AudioFeatures f = spec.media().audio().features();
    assertEquals(new AudioFeatures(512, 160, 400, 40, 0, 8000, AudioFeatures.MelScale.HTK, AudioFeatures.MelNorm.SLANEY,
        AudioFeatures.Log.LN, 1e-10, true, AudioFeatures.Normalize.PER_CLIP, null), f);
    assertEquals(101, f.frames(16_000), "centred: 1 + 16000 / 160");
    assertArrayEquals(new long[] {2, 40, 101}, spec.media().audio().shape(2));
    assertEquals(spec.media().audio(), FunctionSpec.fromJson(spec.toJson()).media().audio());

    ModelSignature rank4 = new ModelSignature(List.of(new TensorSpec("features", DataType.FP32, new long[] {-1, 1, 40, 101})),
        List.of());
    JsonObject meta = spec.media().workerMeta(rank4);
    assertEquals("features", meta.getString("input"));
    assertEquals(4, meta.getJsonObject("features").getInteger("rank"), "resolved from the model's input");
    assertArrayEquals(new long[] {3, 1, 40, 101}, AudioPreprocess.fromJson(meta).shape(3));
    ModelSignature rank3 = new ModelSignature(List.of(new TensorSpec("x", DataType.FP32, new long[] {-1, 40, 101})), List.of());
    assertEquals(3, spec.media().workerMeta(rank3).getJsonObject("features").getInteger("rank"));

    AudioFeatures defaults = AudioPreprocess.fromJson(new JsonObject("{\"sample_rate\": 8000, \"seconds\": 1, \"features\": "
        + "{\"type\": \"log_mel\"}}")).features();
    assertEquals(new AudioFeatures(512, 128, 512, 64, 0, 4000, AudioFeatures.MelScale.SLANEY, AudioFeatures.MelNorm.SLANEY,
        AudioFeatures.Log.DB, 1e-10, true, AudioFeatures.Normalize.NONE, null), defaults, "win n_fft, hop win / 4, fmax rate / 2");
    assertNull(FunctionSpec.fromJson(new JsonObject("{\"name\": \"t\", \"kind\": \"audio\", \"preprocess\": {\"seconds\": 1}}"))
        .media().audio().features(), "no features: raw samples");
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
      "\"kind\": \"audio\", \"preprocess\": {\"sample_rate\": 8000, \"seconds\": 1, \"features\": {\"n_fft\": 512}}| field 'preprocess.features.type'",
      "\"kind\": \"audio\", \"preprocess\": {\"sample_rate\": 8000, \"seconds\": 1, \"features\": \"log_mel\"}| field 'preprocess.features': expected an object",
      "\"kind\": \"audio\", \"preprocess\": {\"sample_rate\": 8000, \"seconds\": 1, \"features\": {\"type\": \"mfcc\"}}| field 'preprocess.features.type'",
      "\"kind\": \"audio\", \"preprocess\": {\"sample_rate\": 8000, \"seconds\": 1, \"features\": {\"type\": \"log_mel\", \"n_fft\": 500}}| field 'preprocess.features.n_fft': expected a power of two",
      "\"kind\": \"audio\", \"preprocess\": {\"sample_rate\": 8000, \"seconds\": 1, \"features\": {\"type\": \"log_mel\", \"n_fft\": 16}}| field 'preprocess.features.n_fft'",
      "\"kind\": \"audio\", \"preprocess\": {\"sample_rate\": 8000, \"seconds\": 1, \"features\": {\"type\": \"log_mel\", \"n_fft\": 16384}}| field 'preprocess.features.n_fft'",
      "\"kind\": \"audio\", \"preprocess\": {\"sample_rate\": 8000, \"seconds\": 1, \"features\": {\"type\": \"log_mel\", \"n_fft\": 512.5}}| field 'preprocess.features.n_fft'",
      "\"kind\": \"audio\", \"preprocess\": {\"sample_rate\": 8000, \"seconds\": 1, \"features\": {\"type\": \"log_mel\", \"hop\": 0}}| field 'preprocess.features.hop'",
      "\"kind\": \"audio\", \"preprocess\": {\"sample_rate\": 8000, \"seconds\": 10, \"features\": {\"type\": \"log_mel\", \"hop\": 1, \"n_mels\": 256}}| field 'preprocess.features.hop': n_mels × frames",
      "\"kind\": \"audio\", \"preprocess\": {\"sample_rate\": 8000, \"seconds\": 10, \"features\": {\"type\": \"log_mel\", \"hop\": 1, \"n_mels\": 1}}| field 'preprocess.features.hop': 80001 frames of n_fft 512",
      "\"kind\": \"audio\", \"preprocess\": {\"sample_rate\": 8000, \"seconds\": 1, \"features\": {\"type\": \"log_mel\", \"win\": 0}}| field 'preprocess.features.win'",
      "\"kind\": \"audio\", \"preprocess\": {\"sample_rate\": 8000, \"seconds\": 1, \"features\": {\"type\": \"log_mel\", \"win\": 1024}}| field 'preprocess.features.win'",
      "\"kind\": \"audio\", \"preprocess\": {\"sample_rate\": 8000, \"seconds\": 1, \"features\": {\"type\": \"log_mel\", \"n_mels\": 0}}| field 'preprocess.features.n_mels'",
      "\"kind\": \"audio\", \"preprocess\": {\"sample_rate\": 8000, \"seconds\": 1, \"features\": {\"type\": \"log_mel\", \"n_mels\": 300}}| field 'preprocess.features.n_mels'",
      "\"kind\": \"audio\", \"preprocess\": {\"sample_rate\": 8000, \"seconds\": 1, \"features\": {\"type\": \"log_mel\", \"fmin\": -1}}| field 'preprocess.features.fmin'",
      "\"kind\": \"audio\", \"preprocess\": {\"sample_rate\": 8000, \"seconds\": 1, \"features\": {\"type\": \"log_mel\", \"fmax\": 4001}}| field 'preprocess.features.fmax': expected at most half the sample rate",
      "\"kind\": \"audio\", \"preprocess\": {\"sample_rate\": 8000, \"seconds\": 1, \"features\": {\"type\": \"log_mel\", \"fmin\": 300, \"fmax\": 300}}| field 'preprocess.features.fmax': expected more than fmin",
      "\"kind\": \"audio\", \"preprocess\": {\"sample_rate\": 8000, \"seconds\": 1, \"features\": {\"type\": \"log_mel\", \"fmax\": \"high\"}}| field 'preprocess.features.fmax'",
      "\"kind\": \"audio\", \"preprocess\": {\"sample_rate\": 8000, \"seconds\": 1, \"features\": {\"type\": \"log_mel\", \"mel_scale\": \"bark\"}}| field 'preprocess.features.mel_scale': expected one of htk | slaney",
      "\"kind\": \"audio\", \"preprocess\": {\"sample_rate\": 8000, \"seconds\": 1, \"features\": {\"type\": \"log_mel\", \"mel_norm\": \"l2\"}}| field 'preprocess.features.mel_norm'",
      "\"kind\": \"audio\", \"preprocess\": {\"sample_rate\": 8000, \"seconds\": 1, \"features\": {\"type\": \"log_mel\", \"log\": \"log2\"}}| field 'preprocess.features.log': expected one of ln | log10 | db",
      "\"kind\": \"audio\", \"preprocess\": {\"sample_rate\": 8000, \"seconds\": 1, \"features\": {\"type\": \"log_mel\", \"floor\": 0}}| field 'preprocess.features.floor'",
      "\"kind\": \"audio\", \"preprocess\": {\"sample_rate\": 8000, \"seconds\": 1, \"features\": {\"type\": \"log_mel\", \"floor\": 2}}| field 'preprocess.features.floor'",
      "\"kind\": \"audio\", \"preprocess\": {\"sample_rate\": 8000, \"seconds\": 1, \"features\": {\"type\": \"log_mel\", \"center\": 1}}| field 'preprocess.features.center'",
      "\"kind\": \"audio\", \"preprocess\": {\"sample_rate\": 8000, \"seconds\": 1, \"features\": {\"type\": \"log_mel\", \"normalize\": \"global\"}}| field 'preprocess.features.normalize'",
      "\"kind\": \"audio\", \"preprocess\": {\"sample_rate\": 8000, \"seconds\": 1, \"features\": {\"type\": \"log_mel\", \"rank\": 5}}| field 'preprocess.features.rank'",
      "\"kind\": \"audio\", \"preprocess\": {\"sample_rate\": 8000, \"seconds\": 1, \"features\": {\"type\": \"log_mel\", \"top_db\": 80}}| field 'preprocess.features': unknown field 'top_db'",
      "\"kind\": \"audio\", \"preprocess\": {\"sample_rate\": 8000, \"seconds\": 0.01, \"features\": {\"type\": \"log_mel\"}}| field 'preprocess.features.n_fft': 512 is longer than the clip's 80 samples",
  })
  void badMediaFieldsAreRefusedNamingTheField(String fields, String message) {
    String got = assertThrows(InvalidSpecException.class,
        () -> FunctionSpec.fromJson(new JsonObject("{\"name\": \"x\", " + fields + "}"))).getMessage();
    assertTrue(got.contains(message.strip()), got);
  }
}
