package io.inferium.functions.media;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.AudioFeatures;
import io.inferium.functions.AudioPreprocess;
import io.inferium.functions.runtime.Cancellation;
import io.inferium.functions.tensor.DataType;
import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.tensor.Tensors;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.sound.sampled.AudioFormat;
import org.junit.jupiter.api.Test;

/**
 * The worker's log-mel against the values {@code engine/src/test/python/make_chirps_model.py} computed with its own
 * numpy implementation of the same conventions, for three committed clips (a chirp with noise, two tones, and one of
 * 100 samples: shorter than n_fft, zero-padded to the spec's length) under three specs that between them take every
 * option (HTK and Slaney scales, Slaney and no filter normalisation, ln, log10 and dB, centred and not, a window
 * shorter than n_fft, per-clip standardisation). Tolerance: 1e-4 absolute on every value (log units, dB or
 * standardised; the largest seen is about 1e-5); both sides compute in doubles, the file holds 7 significant digits.
 */
class LogMelTest {

  static final Path REFERENCE = Path.of("src/test/resources/logmel");

  @Test
  void matchesTheNumpyReferenceForEveryClipAndSpec() throws Exception {
    JsonObject doc = new JsonObject(Files.readString(REFERENCE.resolve("reference.json")));
    JsonArray cases = doc.getJsonArray("cases");
    assertEquals(9, cases.size());
    double worst = 0;
    for (Object o : cases) {
      JsonObject c = (JsonObject) o;
      AudioPreprocess p = AudioPreprocess.fromJson(new JsonObject().put("sample_rate", doc.getInteger("sample_rate"))
          .put("seconds", doc.getDouble("seconds")).put("features", c.getJsonObject("features"))).withInput("clip");
      Tensor t = AudioInputs.tensor(p, List.of(Files.readAllBytes(REFERENCE.resolve(c.getString("clip")))), null);
      JsonArray shape = c.getJsonArray("shape");
      assertArrayEquals(new long[] {1, shape.getLong(0), shape.getLong(1)}, t.shape(), c.getString("clip"));
      float[] got = Tensors.toFloatArray(t);
      JsonArray want = c.getJsonArray("values");
      assertEquals(want.size(), got.length);
      for (int i = 0; i < got.length; i++) {
        double d = Math.abs(got[i] - want.getDouble(i));
        worst = Math.max(worst, d);
        assertTrue(d <= 1e-4, c.getString("clip") + " " + c.getJsonObject("features").encode() + " value " + i + ": java "
            + got[i] + ", numpy " + want.getDouble(i));
      }
    }
    System.out.println("LogMelTest: largest difference from numpy " + worst);
  }

  private static AudioPreprocess spec(String features) {
    return AudioPreprocess.fromJson(new JsonObject("{\"sample_rate\": 8000, \"seconds\": 0.25, \"features\": " + features + "}"))
        .withInput("clip");
  }

  private static byte[] silence(int frames) throws Exception {
    return AudioInputsTest.wav(new AudioFormat(8000, 16, 1, true, false), new byte[frames * 2]);
  }

  @Test
  void silenceIsTheFloorsLogAndStandardisesToZeros() throws Exception {
    float[] db = Tensors.toFloatArray(AudioInputs.tensor(spec("{\"type\": \"log_mel\", \"n_fft\": 256, \"n_mels\": 16}"),
        List.of(silence(2000)), null));
    for (float v : db) {
      assertEquals(-100f, v, 1e-4, "10 log10(1e-10), the default floor");
    }
    float[] ln = Tensors.toFloatArray(AudioInputs.tensor(spec("{\"type\": \"log_mel\", \"n_fft\": 256, \"n_mels\": 16, "
        + "\"log\": \"ln\", \"floor\": 1e-6, \"normalize\": \"per_clip\"}"), List.of(silence(10)), null));
    for (float v : ln) {
      assertEquals(0f, v, 1e-6, "a constant clip has no spread: zeros (to rounding), not NaN");
    }
  }

  @Test
  void framesAndShapeFollowCenterHopAndTheModelsRank() throws Exception {
    // 2000 samples, n_fft 256, hop 64 (win 256 / 4): centred 1 + 2000 / 64 = 32 frames; not centred 1 + 1744 / 64 = 28.
    AudioPreprocess centred = spec("{\"type\": \"log_mel\", \"n_fft\": 256, \"n_mels\": 20}");
    AudioPreprocess edge = spec("{\"type\": \"log_mel\", \"n_fft\": 256, \"n_mels\": 20, \"center\": false}");
    assertEquals(64, centred.features().hop());
    assertArrayEquals(new long[] {2, 20, 32}, AudioInputs.tensor(centred, List.of(silence(2000), silence(5)), null).shape());
    assertArrayEquals(new long[] {1, 20, 28}, AudioInputs.tensor(edge, List.of(silence(2000)), null).shape());
    Tensor four = AudioInputs.tensor(centred.withModelRank(4), List.of(silence(2000)), null);
    assertArrayEquals(new long[] {1, 1, 20, 32}, four.shape());
    assertEquals(DataType.FP32, four.type());
    assertEquals("clip", four.name());
    assertArrayEquals(new long[] {1, 20, 32}, AudioInputs.tensor(centred.withModelRank(-1), List.of(silence(1)), null).shape());
    assertSame(LogMel.of(centred.features(), 8000, 2000), LogMel.of(centred.features().withRank(4), 8000, 2000),
        "window and filters are made once per features");
  }

  @Test
  void theFftAgreesWithADirectDftOfAFrame() {
    // The first frame of random noise, not centred, through one mel filter spanning 0 Hz to 4 kHz.
    AudioFeatures f = spec("{\"type\": \"log_mel\", \"n_fft\": 64, \"n_mels\": 1, \"center\": false, \"hop\": 64, "
        + "\"log\": \"ln\", \"floor\": 1e-30, \"mel_norm\": \"none\", \"fmin\": 0, \"fmax\": 4000}").features();
    float[] clip = new float[2000];
    java.util.Random r = new java.util.Random(7);
    for (int i = 0; i < clip.length; i++) {
      clip[i] = (float) r.nextGaussian() * 0.3f;
    }
    float[] got = LogMel.of(f, 8000, 2000).compute(clip);
    // The same first frame by a direct DFT and the same single triangle (0 Hz .. 4 kHz, peak at its mel midpoint).
    double lo = LogMel.hzToMel(0, false);
    double hi = LogMel.hzToMel(4000, false);
    double[] edges = {0, LogMel.melToHz((lo + hi) / 2, false), 4000};
    double sum = 0;
    for (int b = 0; b <= 32; b++) {
      double re = 0;
      double im = 0;
      for (int n = 0; n < 64; n++) {
        double w = 0.5 - 0.5 * Math.cos(2 * Math.PI * n / 64);
        re += clip[n] * w * Math.cos(2 * Math.PI * b * n / 64);
        im -= clip[n] * w * Math.sin(2 * Math.PI * b * n / 64);
      }
      double hz = b * 8000.0 / 64;
      double weight = Math.max(0, Math.min((hz - edges[0]) / (edges[1] - edges[0]), (edges[2] - hz) / (edges[2] - edges[1])));
      sum += weight * (re * re + im * im);
    }
    assertEquals(Math.log(sum), got[0], 1e-5);
  }

  @Test
  void aCancelledRequestStopsBeforeTheNextClip() throws Exception {
    Cancellation cancelled = new Cancellation();
    cancelled.cancel();
    assertThrows(MediaException.class, () -> AudioInputs.tensor(spec("{\"type\": \"log_mel\", \"n_fft\": 256}"),
        List.of(silence(2000)), cancelled));
  }

  @Test
  void aWorkerRefusesBadFeaturesNamingTheField() {
    for (String[] bad : new String[][] {{"\"n_fft\": 300", "n_fft"}, {"\"n_fft\": 4096", "n_fft"}, {"\"hop\": 0", "hop"},
        {"\"win\": 512", "win"}, {"\"n_mels\": 257", "n_mels"}, {"\"fmax\": 4001", "fmax"}, {"\"fmin\": 4000", "fmax"},
        {"\"log\": \"log2\"", "log"}, {"\"floor\": 0", "floor"}, {"\"center\": \"yes\"", "center"},
        {"\"normalize\": \"global\"", "normalize"}, {"\"rank\": 2", "rank"}, {"\"window\": \"hamming\"", "features"}}) {
      JsonObject media = new JsonObject("{\"type\": \"audio\", \"sample_rate\": 8000, \"seconds\": 0.25, \"input\": \"clip\", "
          + "\"features\": {\"type\": \"log_mel\", \"n_fft\": 256, " + bad[0] + "}}");
      MediaException e = assertThrows(MediaException.class, () -> MediaInputs.prepare(media, List.of(), null), bad[0]);
      String field = bad[1].equals("features") ? "preprocess.features'" : "preprocess.features." + bad[1] + "'";
      assertTrue(e.getMessage().contains("field '" + field), e.getMessage());
    }
  }
}
