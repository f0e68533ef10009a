package io.inferium.functions.media;

import io.inferium.functions.ImagePreprocess;
import io.inferium.functions.VideoPreprocess;
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

/**
 * How long the worker's video pre-processing takes (not a test: run by hand, docs/BENCHMARKS.md): a {@code W × H} MP4 of
 * {@code S} seconds at 25 fps made with JCodec's encoder, decoded and sampled at {@code F} fps, at most {@code M} frames,
 * each pre-processed to 224 × 224. Arguments: W H S F M.
 */
public final class VideoDecodeBench {

  private VideoDecodeBench() {}

  public static void main(String[] a) throws Exception {
    int w = Integer.parseInt(a[0]);
    int h = Integer.parseInt(a[1]);
    int secs = Integer.parseInt(a[2]);
    double fps = Double.parseDouble(a[3]);
    int max = Integer.parseInt(a[4]);
    ByteBufferSeekableByteChannel ch = ByteBufferSeekableByteChannel.writeToByteBuffer(ByteBuffer.allocate(64 << 20));
    AWTSequenceEncoder enc = new AWTSequenceEncoder(ch, Rational.R(25, 1));
    java.util.Random rng = new java.util.Random(1);
    for (int i = 0; i < secs * 25; i++) {
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
    byte[] mp4 = Arrays.copyOf(ch.getContents().array(), (int) ch.size());
    JsonObject spec = new JsonObject().put("size", 224).put("fps", fps).put("max_frames", max);
    ImagePreprocess p = ImagePreprocess.fromJson(VideoPreprocess.frameFields(spec)).withInput("image");
    VideoPreprocess v = VideoPreprocess.fromJson(spec);
    for (int warm = 0; warm < 2; warm++) {
      VideoInputs.tensor(p, v, List.of(mp4), null);
    }
    int runs = 5;
    long t0 = System.nanoTime();
    int frames = 0;
    for (int r = 0; r < runs; r++) {
      frames = VideoInputs.tensor(p, v, List.of(mp4), null).slots()[0].length;
    }
    double ms = (System.nanoTime() - t0) / 1e6 / runs;
    System.out.printf("%dx%d, %d s at 25 fps (%d KB), sampled at %.1f fps, %d frames -> 224x224: %.0f ms per video (%.1f ms per sampled frame)%n",
        w, h, secs, mp4.length / 1024, fps, frames, ms, ms / frames);
  }
}
