package io.inferium.engine;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.Polygon;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.jcodec.api.awt.AWTSequenceEncoder;
import org.jcodec.common.io.ByteBufferSeekableByteChannel;
import org.jcodec.common.model.Rational;

/**
 * Real MP4 (H.264) files for the video tests, encoded with JCodec's encoder: frames of the shapes the demo's image
 * model knows, drawn with Java2D like {@code make_shapes_model.py} draws them (random size, position, rotation,
 * contrasting colours, anti-aliased), and byte-level surgery on the MP4's boxes for the hostile cases.
 */
public final class ShapeVideos {

  private ShapeVideos() {}

  /** One {@code size}² frame of shape {@code kind} (0 circle, 1 square, 2 triangle). */
  static BufferedImage draw(int kind, int size, Random rng) {
    BufferedImage img = new BufferedImage(size, size, BufferedImage.TYPE_3BYTE_BGR);
    Graphics2D g = img.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    Color fg;
    Color bg;
    do {
      fg = new Color(rng.nextInt(256), rng.nextInt(256), rng.nextInt(256));
      bg = new Color(rng.nextInt(256), rng.nextInt(256), rng.nextInt(256));
    } while (Math.abs(luma(fg) - luma(bg)) < 90);
    g.setColor(bg);
    g.fillRect(0, 0, size, size);
    g.setColor(fg);
    double r = (0.25 + rng.nextDouble() * 0.15) * size;
    double cx = r + rng.nextDouble() * (size - 2 * r);
    double cy = r + rng.nextDouble() * (size - 2 * r);
    if (kind == 0) {
      g.fill(new java.awt.geom.Ellipse2D.Double(cx - r, cy - r, 2 * r, 2 * r));
    } else if (kind == 1) {
      double s = r * 0.8;
      g.fill(AffineTransform.getRotateInstance(rng.nextDouble() * Math.PI / 2, cx, cy)
          .createTransformedShape(new Rectangle2D.Double(cx - s, cy - s, 2 * s, 2 * s)));
    } else {
      double a = rng.nextDouble() * 2 * Math.PI;
      Polygon p = new Polygon();
      for (int k = 0; k < 3; k++) {
        p.addPoint((int) Math.round(cx + r * Math.cos(a + k * 2 * Math.PI / 3)), (int) Math.round(cy + r * Math.sin(a + k * 2 * Math.PI / 3)));
      }
      g.fill(p);
    }
    g.dispose();
    return img;
  }

  private static double luma(Color c) {
    return (c.getRed() + c.getGreen() + c.getBlue()) / 3.0;
  }

  /** An MP4 at {@code fps} whose frame i shows shape {@code kinds.get(i)}, each frame drawn afresh. */
  public static byte[] mp4(int fps, int size, List<Integer> kinds, long seed) throws Exception {
    Random rng = new Random(seed);
    ByteBufferSeekableByteChannel ch = ByteBufferSeekableByteChannel.writeToByteBuffer(ByteBuffer.allocate(8 << 20));
    AWTSequenceEncoder enc = new AWTSequenceEncoder(ch, Rational.R(fps, 1));
    for (int kind : kinds) {
      enc.encodeImage(draw(kind, size, rng));
    }
    enc.finish();
    return Arrays.copyOf(ch.getContents().array(), (int) ch.size());
  }

  /**
   * The demo's sample ({@code demo/shapes-sample.mp4}): 4 s at 4 fps, 64 × 64, 3 s of circles then 1 s of squares, so
   * the pooled answer is clear (circle) and the frames show the change.
   */
  public static byte[] demoSample() throws Exception {
    List<Integer> kinds = new java.util.ArrayList<>();
    for (int i = 0; i < 16; i++) {
      kinds.add(i < 12 ? 0 : 1);
    }
    return mp4(4, 64, kinds, 16);
  }

  /**
   * Writes {@link #demoSample()} to the path given; {@code engine/src/test/sh/make-demo-video.sh} makes the demo's
   * committed sample so.
   */
  public static void main(String[] args) throws Exception {
    if (args.length != 1) {
      System.err.println("usage: ShapeVideos <file.mp4>");
      System.exit(2);
    }
    byte[] mp4 = demoSample();
    java.nio.file.Files.write(java.nio.file.Path.of(args[0]), mp4);
    System.out.println("wrote " + args[0] + " (" + mp4.length + " bytes)");
  }

  /** Where the box {@code type} begins (its size field), or -1. */
  static int box(byte[] b, String type) {
    byte[] t = type.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    outer:
    for (int i = 4; i + 4 <= b.length; i++) {
      for (int j = 0; j < 4; j++) {
        if (b[i + j] != t[j]) {
          continue outer;
        }
      }
      return i - 4;
    }
    return -1;
  }

  /** A copy whose movie header (mvhd, version 0) declares {@code seconds}. */
  public static byte[] declaringSeconds(byte[] mp4, long seconds) {
    byte[] b = mp4.clone();
    int body = box(b, "mvhd") + 8;
    ByteBuffer buf = ByteBuffer.wrap(b);
    long timescale = buf.getInt(body + 12) & 0xffffffffL;
    buf.putInt(body + 16, (int) (seconds * timescale));
    return b;
  }

  /** A copy whose video track header declares {@code w × h}. */
  public static byte[] declaringSize(byte[] mp4, int w, int h) {
    byte[] b = mp4.clone();
    int at = box(b, "tkhd");
    int end = at + ByteBuffer.wrap(b).getInt(at);
    ByteBuffer.wrap(b).putInt(end - 8, w << 16).putInt(end - 4, h << 16);
    return b;
  }

  /** A copy whose sample description names {@code codec} instead of avc1. */
  public static byte[] withCodec(byte[] mp4, String codec) {
    byte[] b = mp4.clone();
    int at = box(b, "stsd") + 8 + 8; // its header, version/flags and entry count: then the first entry's size and type
    System.arraycopy(codec.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1), 0, b, at + 4, 4);
    return b;
  }

  /** A copy with the coded frames (the mdat payload) overwritten with a pattern: the headers pass, nothing decodes. */
  public static byte[] scrambled(byte[] mp4) {
    byte[] b = mp4.clone();
    int at = box(b, "mdat");
    ByteBuffer buf = ByteBuffer.wrap(b);
    long size = buf.getInt(at) & 0xffffffffL;
    int header = 8;
    if (size == 1) {
      size = buf.getLong(at + 8);
      header = 16;
    }
    int end = (int) Math.min(b.length, at + size);
    for (int i = at + header; i < end; i++) {
      b[i] = (byte) (i * 37);
    }
    return b;
  }
}
