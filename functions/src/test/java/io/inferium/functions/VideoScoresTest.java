package io.inferium.functions;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.tensor.DataType;
import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.tensor.Tensors;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.Test;

class VideoScoresTest {

  static MediaOptions media(boolean softmax) {
    return FunctionSpec.fromJson(new JsonObject("{\"name\": \"clips\", \"kind\": \"video\", \"preprocess\": "
        + "{\"size\": 8, \"fps\": 2, \"max_frames\": 3}, \"labels\": [\"a\", \"b\"], \"postprocess\": {\"softmax\": "
        + softmax + "}}")).media();
  }

  static Tensor index(int... slots) {
    ByteBuffer b = ByteBuffer.allocate(slots.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int s : slots) {
      b.putInt(s);
    }
    return new Tensor("frame_index", DataType.INT32, new long[] {2, 3}, b.flip());
  }

  @Test
  void framesArePooledByTheirMeanAfterSoftmaxAndBilledUpToTheSampledWindow() {
    // Video 0: three frames; video 1: one frame, then padding (index -1, zero scores).
    Tensor scores = Tensors.fp32("scores", new long[] {2, 3, 2}, 0, 0, 2, 0, 0, 4, 1, 3, 0, 0, 0, 0);
    VideoScores raw = VideoScores.of(media(false), List.of(scores, index(0, 1, 2, 0, -1, -1)), new long[] {10_000, 200});
    assertArrayEquals(new double[] {2 / 3.0, 4 / 3.0}, raw.pooled()[0], 1e-12);
    assertArrayEquals(new double[] {1, 3}, raw.pooled()[1], 1e-12, "padding rows are not frames");
    assertArrayEquals(new int[] {0, 1, 2}, raw.slots()[0]);
    assertEquals(1, raw.frames()[1].length);
    // Video 0 declares 10 s but only 3 frames at 2 fps (1.5 s) are sampled; video 1 declares 0.2 s.
    assertArrayEquals(new long[] {1_500, 200}, raw.millis());
    assertEquals(1_700, raw.totalMillis());
    VideoScores soft = VideoScores.of(media(true), List.of(scores, index(0, 1, 2, 0, -1, -1)), new long[] {500, 200});
    double e2 = 1 / (1 + Math.exp(-2));
    assertEquals((0.5 + e2 + 1 / (1 + Math.exp(4))) / 3, soft.pooled()[0][0], 1e-12, "the mean of each frame's softmax");
    assertEquals(1_000, soft.millis()[0], "never less than the last sampled frame's time (1 s), whatever the header says");
  }

  @Test
  void anOutputThatIsNoVideoFunctionsIsRefusedNamingItsShape() {
    Tensor flat = Tensors.fp32("scores", new long[] {2, 2}, 1, 2, 3, 4);
    String wrong = assertThrows(IllegalArgumentException.class,
        () -> VideoScores.of(media(false), List.of(flat, index(0, 1, 2, 0, 1, 2)), new long[] {1, 1})).getMessage();
    assertTrue(wrong.contains("FP32[2, 2]") && wrong.contains("frame_index"), wrong);
    Tensor scores = Tensors.fp32("scores", new long[] {2, 3, 1}, 1, 2, 3, 4, 5, 6);
    String none = assertThrows(IllegalArgumentException.class,
        () -> VideoScores.of(media(false), List.of(scores, index(0, 1, 2, -1, -1, -1)), new long[] {1, 1})).getMessage();
    assertTrue(none.contains("no frame of video 1"), none);
  }
}
