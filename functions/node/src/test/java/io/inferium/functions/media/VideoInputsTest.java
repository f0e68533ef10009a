package io.inferium.functions.media;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.ImagePreprocess;
import io.inferium.functions.VideoPreprocess;
import io.inferium.functions.runtime.Cancellation;
import io.inferium.functions.tensor.DataType;
import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.tensor.Tensors;
import io.vertx.core.json.JsonObject;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import org.jcodec.api.awt.AWTSequenceEncoder;
import org.jcodec.common.io.ByteBufferSeekableByteChannel;
import org.jcodec.common.model.Rational;
import org.junit.jupiter.api.Test;

class VideoInputsTest {

  /** An MP4 (H.264) made with JCodec's encoder: one solid-colour frame per colour at {@code fps}. */
  static byte[] mp4(int fps, int size, Color... frames) throws Exception {
    ByteBufferSeekableByteChannel ch = ByteBufferSeekableByteChannel.writeToByteBuffer(ByteBuffer.allocate(4 << 20));
    AWTSequenceEncoder enc = new AWTSequenceEncoder(ch, Rational.R(fps, 1));
    for (Color c : frames) {
      BufferedImage img = new BufferedImage(size, size, BufferedImage.TYPE_3BYTE_BGR);
      Graphics2D g = img.createGraphics();
      g.setColor(c);
      g.fillRect(0, 0, size, size);
      g.dispose();
      enc.encodeImage(img);
    }
    enc.finish();
    ByteBuffer all = ch.getContents();
    return Arrays.copyOf(all.array(), (int) ch.size());
  }

  static final JsonObject SPEC = new JsonObject().put("size", 4).put("channels", "rgb").put("fps", 2).put("max_frames", 3);

  static ImagePreprocess frame() {
    return ImagePreprocess.fromJson(VideoPreprocess.frameFields(SPEC)).withInput("image");
  }

  @Test
  void framesAreSampledAtTheSpecRateUpToMaxFramesAndRegroupedPerVideo() throws Exception {
    // 8 frames at 4 fps (2 s): red, red, green, green, blue, blue, white, white. Sampled at 2 fps, at most 3 frames:
    // t = 0 (red), 0.5 (green), 1.0 (blue); the white second is never needed.
    byte[] video = mp4(4, 32, Color.RED, Color.RED, Color.GREEN, Color.GREEN, Color.BLUE, Color.BLUE, Color.WHITE, Color.WHITE);
    byte[] shortOne = mp4(4, 32, Color.GREEN);
    VideoInputs.Frames frames = VideoInputs.tensor(frame(), VideoPreprocess.fromJson(SPEC), List.of(video, shortOne),
        new Cancellation());
    assertArrayEquals(new long[] {4, 3, 4, 4}, frames.input().shape(), "3 frames of the first video, 1 of the second");
    assertArrayEquals(new int[] {0, 1, 2}, frames.slots()[0]);
    assertArrayEquals(new int[] {0}, frames.slots()[1]);
    float[] v = Tensors.toFloatArray(frames.input());
    int plane = 16;
    // H.264 is lossy (and YUV 4:2:0): each sampled frame is the drawn colour within a few levels (v / 255, no mean/std).
    float[][] expect = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}, {0, 1, 0}};
    for (int f = 0; f < 4; f++) {
      for (int c = 0; c < 3; c++) {
        float centre = v[(f * 3 + c) * plane + 5];
        assertEquals(expect[f][c], centre, 0.16, "frame " + f + " channel " + c + ": " + centre);
      }
    }

    // The model's rows (here 4 rows of 2 scores) come back as [videos, max_frames, 2] plus each row's sample index.
    Tensor out = Tensors.fp32("scores", new long[] {4, 2}, new float[] {1, 2, 3, 4, 5, 6, 7, 8});
    List<Tensor> grouped = frames.regroup(List.of(out));
    assertArrayEquals(new long[] {2, 3, 2}, grouped.get(0).shape());
    assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0}, Tensors.toFloatArray(grouped.get(0)));
    assertEquals("frame_index", grouped.get(1).name());
    assertEquals(DataType.INT32, grouped.get(1).type());
    assertArrayEquals(new long[] {0, 1, 2, 0, -1, -1}, Tensors.toLongArray(grouped.get(1)));
    assertThrows(MediaException.class, () -> frames.regroup(List.of(Tensors.fp32("x", new long[] {3}, new float[3]))),
        "a model that does not answer a row per frame");
  }

  @Test
  void corruptTruncatedForeignAndCancelledVideosAreMediaExceptions() throws Exception {
    byte[] video = mp4(4, 32, Color.RED, Color.GREEN, Color.BLUE, Color.WHITE);
    VideoPreprocess sampling = VideoPreprocess.fromJson(SPEC);
    MediaException truncated = assertThrows(MediaException.class,
        () -> VideoInputs.tensor(frame(), sampling, List.of(Arrays.copyOf(video, video.length / 3)), null));
    assertTrue(truncated.getMessage().startsWith("video 0"), truncated.getMessage());
    assertFalse(truncated.tooLarge());
    byte[] garbage = new byte[4096];
    new java.util.Random(7).nextBytes(garbage);
    assertThrows(MediaException.class, () -> VideoInputs.tensor(frame(), sampling, List.of(garbage), null));
    assertThrows(MediaException.class, () -> VideoInputs.tensor(frame(), sampling, List.of(new byte[0]), null));
    // Every byte of the H.264 payload flipped: demuxes, but no frame decodes into a picture (or it throws).
    byte[] scrambled = video.clone();
    int mdat = indexOf(scrambled, "mdat".getBytes());
    for (int i = mdat + 4; i < scrambled.length && i < mdat + 2000; i++) {
      scrambled[i] ^= (byte) 0x5a;
    }
    try {
      VideoInputs.tensor(frame(), sampling, List.of(scrambled), null);
    } catch (MediaException expected) {
      assertTrue(expected.getMessage().startsWith("video 0"), expected.getMessage());
    }
    Cancellation cancelled = new Cancellation();
    cancelled.cancel();
    assertThrows(MediaException.class, () -> VideoInputs.tensor(frame(), sampling, List.of(video), cancelled));
  }

  static int indexOf(byte[] b, byte[] what) {
    outer:
    for (int i = 0; i + what.length <= b.length; i++) {
      for (int j = 0; j < what.length; j++) {
        if (b[i + j] != what[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
