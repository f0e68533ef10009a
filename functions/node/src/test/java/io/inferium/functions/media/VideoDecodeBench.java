package io.inferium.functions.media;

import io.inferium.functions.ImagePreprocess;
import io.inferium.functions.VideoPreprocess;
import io.vertx.core.json.JsonObject;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import org.jcodec.api.SequenceEncoder;
import org.jcodec.api.awt.AWTSequenceEncoder;
import org.jcodec.codecs.h264.H264Encoder;
import org.jcodec.common.io.ByteBufferSeekableByteChannel;
import org.jcodec.common.model.Rational;

/**
 * How long the worker's video pre-processing takes (not a test: run by hand, docs/BENCHMARKS.md): a {@code W × H} MP4
 * of {@code S} seconds at {@code R} fps with an IDR every {@code G} frames, made with JCodec's encoder, sampled at each
 * rate of {@code F} (comma-separated), at most {@code M} frames, each pre-processed to 224 × 224, by each of
 * {@code MODES} (comma-separated: {@code in-order} — every frame decoded up to the last sample, the worker before
 * seeking —, {@code exact}, {@code keyframe}); each row one warm-up run, then the mean of {@code RUNS}. Arguments:
 * W H S R G F M MODES RUNS. The 30 s decode deadline is lifted here so the in-order time can be measured; in a worker
 * it is a 400 {@code max_decode_seconds} past 30 s.
 */
public final class VideoDecodeBench {

  private VideoDecodeBench() {}

  public static void main(String[] a) throws Exception {
    int w = Integer.parseInt(a[0]);
    int h = Integer.parseInt(a[1]);
    int secs = Integer.parseInt(a[2]);
    int rate = Integer.parseInt(a[3]);
    int gop = Integer.parseInt(a[4]);
    String[] rates = a[5].split(",");
    int max = Integer.parseInt(a[6]);
    String[] modes = a[7].split(",");
    int runs = Integer.parseInt(a[8]);
    long e0 = System.nanoTime();
    byte[] mp4 = encode(w, h, secs, rate, gop);
    System.out.printf("%dx%d, %d s at %d fps, IDR every %d frames: %d KB, encoded in %.0f s%n", w, h, secs, rate, gop,
        mp4.length / 1024, (System.nanoTime() - e0) / 1e9);
    for (String f : rates) {
      JsonObject spec = new JsonObject().put("size", 224).put("fps", Double.parseDouble(f)).put("max_frames", max);
      ImagePreprocess p = ImagePreprocess.fromJson(VideoPreprocess.frameFields(spec)).withInput("image");
      VideoPreprocess v = VideoPreprocess.fromJson(spec);
      for (String mode : modes) {
        VideoInputs.Strategy strategy = switch (mode) {
          case "in-order" -> VideoInputs.Strategy.IN_ORDER;
          case "exact" -> VideoInputs.Strategy.EXACT;
          case "keyframe" -> VideoInputs.Strategy.KEYFRAME;
          default -> throw new IllegalArgumentException(mode);
        };
        double ms = 0;
        VideoInputs.Sampled s = null;
        for (int run = 0; run <= runs; run++) {
          long t0 = System.nanoTime();
          s = VideoInputs.decode(mp4, 0, p, v, strategy, 224 * 224 * 3, new ArrayList<>(), null,
              System.nanoTime() + 3_600_000_000_000L);
          ms += run == 0 ? 0 : (System.nanoTime() - t0) / 1e6 / runs;
        }
        System.out.printf("  %-8s at %.2f fps: %d samples in %.0f ms (%.0f ms a sample); frames taken %s%n", mode,
            v.fps(), s.slots().length, ms, ms / s.slots().length, Arrays.toString(s.frames()));
      }
    }
  }

  /** Each frame a new background colour and a moving white disc, so every frame changes (large P-frames). */
  static byte[] encode(int w, int h, int secs, int rate, int gop) throws Exception {
    ByteBufferSeekableByteChannel ch = ByteBufferSeekableByteChannel.writeToByteBuffer(ByteBuffer.allocate(256 << 20));
    AWTSequenceEncoder enc = new AWTSequenceEncoder(ch, Rational.R(rate, 1));
    keyInterval(enc, gop);
    java.util.Random rng = new java.util.Random(1);
    for (int i = 0; i < secs * rate; i++) {
      BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
      Graphics2D g = img.createGraphics();
      g.setColor(new Color(rng.nextInt(256), 80, 160));
      g.fillRect(0, 0, w, h);
      g.setColor(Color.WHITE);
      g.fillOval((i * 7) % w, (i * 5) % h, w / 4, h / 4);
      g.dispose();
      enc.encodeImage(img);
    }
    enc.finish();
    return Arrays.copyOf(ch.getContents().array(), (int) ch.size());
  }

  /** JCodec's SequenceEncoder has no setting for the IDR interval (25): set it on its H.264 encoder (a benchmark only). */
  static void keyInterval(SequenceEncoder enc, int gop) throws Exception {
    java.lang.reflect.Field sink = SequenceEncoder.class.getDeclaredField("sink");
    sink.setAccessible(true);
    Object impl = sink.get(enc);
    java.lang.reflect.Field encoder = impl.getClass().getDeclaredField("videoEncoder");
    encoder.setAccessible(true);
    ((H264Encoder) encoder.get(impl)).setKeyInterval(gop);
  }
}
