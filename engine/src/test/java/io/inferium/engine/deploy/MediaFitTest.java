package io.inferium.engine.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.FunctionSpec;
import io.inferium.functions.onnx.OnnxModel;
import io.inferium.functions.onnx.OnnxModelReader;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Audio specs against the inputs real ONNX files declare: raw samples (tones, [N, 8000]) and log-mel (chirps, [N, 1, 40, 101]). */
class MediaFitTest {

  private static final String CHIRPS = "{\"type\": \"log_mel\", \"n_fft\": 512, \"hop\": 160, \"win\": 400, \"n_mels\": 40}";

  private static Optional<String> fit(String preprocess, String model) throws Exception {
    FunctionSpec spec = FunctionSpec.fromJson(new JsonObject("{\"name\": \"a\", \"kind\": \"audio\", \"preprocess\": " + preprocess + "}"));
    OnnxModel declared = OnnxModelReader.read(Path.of(model));
    return MediaFit.problem(spec, declared);
  }

  private static String chirps(String features) throws Exception {
    return fit("{\"sample_rate\": 16000, \"seconds\": 1, \"features\": " + features + "}", "src/test/resources/chirps.onnx")
        .orElse("fits");
  }

  @Test
  void logMelFeaturesMustMatchTheModelsBandsFramesAndRank() throws Exception {
    assertEquals("fits", chirps(CHIRPS));
    assertEquals("fits", chirps(CHIRPS.replace("}", ", \"rank\": 4}")));
    String mels = chirps(CHIRPS.replace("\"n_mels\": 40", "\"n_mels\": 32"));
    assertTrue(mels.startsWith("field 'preprocess.features.n_mels': input features: FP32[?,1,40,101] takes 40 mel bands, "
        + "the spec makes 32; expected [N, 32, 101] or [N, 1, 32, 101]"), mels);
    String frames = chirps(CHIRPS.replace("\"hop\": 160", "\"hop\": 200"));
    assertTrue(frames.startsWith("field 'preprocess.features.hop': input features: FP32[?,1,40,101] takes 101 frames, the spec "
        + "makes 81"), frames);
    assertTrue(chirps(CHIRPS.replace("}", ", \"center\": false}")).contains("the spec makes 97"));
    String rank = chirps(CHIRPS.replace("}", ", \"rank\": 3}"));
    assertEquals("field 'preprocess.features.rank': input features: FP32[?,1,40,101] has rank 4, the log-mel features are "
        + "rank 3 [N, 40, 101]", rank);
  }

  @Test
  void aRawSampleModelIsRefusedLogMelNamingTheShapeItWouldTake() throws Exception {
    String tones = "src/main/resources/demo/tones.onnx";
    assertEquals(Optional.empty(), fit("{\"sample_rate\": 8000, \"seconds\": 1}", tones));
    assertEquals(Optional.of("field 'preprocess.features': input clip: FP32[?,8000] has rank 2, the log-mel features are "
        + "[N, 64, 63] or [N, 1, 64, 63] (n_mels, frames)"),
        fit("{\"sample_rate\": 8000, \"seconds\": 1, \"features\": {\"type\": \"log_mel\"}}", tones));
    String raw = fit("{\"sample_rate\": 16000, \"seconds\": 1}", "src/test/resources/chirps.onnx").orElseThrow();
    assertTrue(raw.contains("a batch of clips is rank 2 [N, samples] (or declare preprocess.features"), raw);
  }
}
