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
    assertEquals(List.of("scores", "source_frame", "source_time", "frame_index"), grouped.stream().map(Tensor::name).toList());
    assertEquals(DataType.INT32, grouped.get(3).type());
    assertArrayEquals(new long[] {0, 1, 2, 0, -1, -1}, Tensors.toLongArray(grouped.get(3)));
    // The frame each row took: at 4 fps, samples 0, 0.5 and 1.0 s are frames 0, 2 and 4 of the first video.
    assertArrayEquals(new long[] {0, 2, 4, 0, -1, -1}, Tensors.toLongArray(grouped.get(1)));
    assertArrayEquals(new float[] {0, 0.5f, 1, 0, -1, -1}, Tensors.toFloatArray(grouped.get(2)), 1e-6f);
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

  /** 4 s at 25 fps, a different hue every frame (so a decoded picture says which frame it is); JCodec's encoder makes
   *  an IDR every 25 frames and lists those in the sync-sample table: frames 0, 25, 50 and 75. */
  static byte[] rainbow() throws Exception {
    Color[] frames = new Color[100];
    for (int i = 0; i < frames.length; i++) {
      frames[i] = new Color(Color.HSBtoRGB(i / 100f, 1, 1));
    }
    return mp4(25, 16, frames);
  }

  static VideoPreprocess sampling(double fps, int max, VideoPreprocess.Seek seek) {
    return new VideoPreprocess(fps, max, seek);
  }

  static VideoInputs.Sampled decode(byte[] video, VideoPreprocess v, VideoInputs.Strategy strategy, List<float[]> out)
      throws MediaException {
    ImagePreprocess p = frame();
    int perImage = p.width() * p.height() * p.channels().count();
    return VideoInputs.decode(video, 0, p, v, strategy, perImage, out, null, System.nanoTime() + 30_000_000_000L);
  }

  @Test
  void exactSeekingTakesTheFramesDecodingInOrderWouldAndKeyframeTakesTheIdrBefore() throws Exception {
    byte[] video = rainbow();
    assertArrayEquals(new int[] {1, 26, 51, 76}, stss(video), "JCodec's encoder: an IDR every 25 frames");
    // 2.5 fps puts every sample on a frame boundary (0.4 s = frame 10): the later frame takes it, in both.
    for (double fps : new double[] {1.5, 0.5, 7, 2.5}) {
      VideoPreprocess v = sampling(fps, 6, VideoPreprocess.Seek.EXACT);
      List<float[]> inOrder = new java.util.ArrayList<>();
      List<float[]> seeking = new java.util.ArrayList<>();
      VideoInputs.Sampled a = decode(video, v, VideoInputs.Strategy.IN_ORDER, inOrder);
      VideoInputs.Sampled b = decode(video, v, VideoInputs.Strategy.EXACT, seeking);
      assertArrayEquals(a.slots(), b.slots(), "fps " + fps);
      assertArrayEquals(a.frames(), b.frames(), "fps " + fps);
      assertArrayEquals(a.times(), b.times(), "fps " + fps);
      for (int i = 0; i < inOrder.size(); i++) {
        assertArrayEquals(inOrder.get(i), seeking.get(i), "fps " + fps + ": the same pixels for sample " + i);
      }
      for (int i = 0; i < b.slots().length; i++) {
        assertEquals((int) Math.floor(b.slots()[i] / fps * 25 + 1e-9), b.frames()[i], "the frame shown at the sample's time");
      }
    }
    // 1.5 fps: samples at 0, 0.67, 1.33, 2, 2.67, 3.33 s take the key frames at 0, 0, 1, 2, 2, 3 s.
    List<float[]> keyed = new java.util.ArrayList<>();
    VideoInputs.Sampled k = decode(video, sampling(1.5, 6, VideoPreprocess.Seek.KEYFRAME), VideoInputs.Strategy.KEYFRAME, keyed);
    assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5}, k.slots());
    assertArrayEquals(new int[] {0, 0, 25, 50, 50, 75}, k.frames());
    assertArrayEquals(new float[] {0, 0, 1, 2, 2, 3}, k.times(), 1e-6f);
    List<float[]> exact = new java.util.ArrayList<>();
    decode(video, sampling(1.5, 6, VideoPreprocess.Seek.EXACT), VideoInputs.Strategy.EXACT, exact);
    assertArrayEquals(exact.get(0), keyed.get(0), "t = 0: both take frame 0");
    assertArrayEquals(exact.get(3), keyed.get(3), "t = 2 s: frame 50 is a key frame, decoded alone the same");
    assertFalse(Arrays.equals(exact.get(1), keyed.get(1)), "t = 0.67 s: exact shows frame 16, keyframe frame 0");
    // Past the end (4 s): no sample, in either mode.
    assertEquals(4, decode(video, sampling(1, 8, VideoPreprocess.Seek.KEYFRAME), VideoInputs.Strategy.KEYFRAME,
        new java.util.ArrayList<>()).slots().length);
    assertEquals(4, decode(video, sampling(1, 8, VideoPreprocess.Seek.EXACT), VideoInputs.Strategy.EXACT,
        new java.util.ArrayList<>()).slots().length);
  }

  @Test
  void hostileSyncTablesAre400AndASyncSampleThatIsNoIdrIsNotSeekedTo() throws Exception {
    byte[] video = rainbow();
    int at = indexOf(video, "stss".getBytes()) + 12; // past type, version and flags, entry count: the entries
    VideoPreprocess keyframe = sampling(1.5, 6, VideoPreprocess.Seek.KEYFRAME);
    VideoPreprocess exact = sampling(1.5, 6, VideoPreprocess.Seek.EXACT);
    byte[] outOfRange = video.clone();
    putInt(outOfRange, at + 4 * 2, 1000);
    byte[] zero = video.clone();
    putInt(zero, at, 0);
    byte[] unsorted = video.clone();
    putInt(unsorted, at + 4, 51);
    putInt(unsorted, at + 8, 26);
    for (VideoPreprocess v : List.of(keyframe, exact)) {
      MediaException range = assertThrows(MediaException.class, () -> VideoInputs.tensor(frame(), v, List.of(outOfRange), null));
      assertTrue(range.getMessage().contains("video 0's sync-sample table (stss) lists sample 1000 at entry 2, outside"),
          range.getMessage());
      assertFalse(range.tooLarge());
      String first = assertThrows(MediaException.class, () -> VideoInputs.tensor(frame(), v, List.of(zero), null)).getMessage();
      assertTrue(first.contains("lists sample 0"), first);
      assertTrue(assertThrows(MediaException.class, () -> VideoInputs.tensor(frame(), v, List.of(unsorted), null)).getMessage()
          .contains("not in increasing order: sample 26 follows sample 51"));
    }
    // An entry count far past the box: refused by the demuxer, a MediaException all the same.
    byte[] count = video.clone();
    putInt(count, at - 4, Integer.MAX_VALUE);
    assertThrows(MediaException.class, () -> VideoInputs.tensor(frame(), keyframe, List.of(count), null));

    // Frame 12 (a P-frame) listed as a sync sample: never a key frame to seek to, so exact still takes the frames
    // decoding in order would, and keyframe the real IDRs.
    byte[] liar = video.clone();
    putInt(liar, at + 4, 13);
    List<float[]> inOrder = new java.util.ArrayList<>();
    List<float[]> seeking = new java.util.ArrayList<>();
    VideoInputs.Sampled a = decode(liar, exact, VideoInputs.Strategy.IN_ORDER, inOrder);
    VideoInputs.Sampled b = decode(liar, exact, VideoInputs.Strategy.EXACT, seeking);
    assertArrayEquals(a.frames(), b.frames());
    for (int i = 0; i < inOrder.size(); i++) {
      assertArrayEquals(inOrder.get(i), seeking.get(i));
    }
    assertArrayEquals(new int[] {0, 0, 0, 50, 50, 75},
        decode(liar, keyframe, VideoInputs.Strategy.KEYFRAME, new java.util.ArrayList<>()).frames(),
        "keys 0, 50, 75: the listed P-frame is not one, and the IDR at 25 is no longer listed");
  }

  static int[] stss(byte[] mp4) {
    int at = indexOf(mp4, "stss".getBytes());
    int n = ByteBuffer.wrap(mp4, at + 8, 4).getInt();
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      out[i] = ByteBuffer.wrap(mp4, at + 12 + 4 * i, 4).getInt();
    }
    return out;
  }

  static void putInt(byte[] b, int at, int v) {
    ByteBuffer.wrap(b, at, 4).putInt(v);
  }
}
