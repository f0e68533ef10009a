package io.inferium.engine.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class ImageHeaderTest {

  private static byte[] encode(int w, int h, String format) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertTrue(ImageIO.write(new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB), format, out));
    return out.toByteArray();
  }

  private static ApiError refused(byte[] b) {
    return assertThrows(ApiError.class, () -> ImageHeader.read(b, 3));
  }

  @Test
  void pngAndJpegDimensionsComeFromTheHeader() throws Exception {
    assertEquals(new ImageHeader("png", 37, 11), ImageHeader.read(encode(37, 11, "png"), 0));
    assertEquals(new ImageHeader("jpeg", 640, 2), ImageHeader.read(encode(640, 2, "jpeg"), 0));
    // Only the header is needed: the JPEG cut right after its frame header still says its size.
    byte[] jpeg = encode(50, 60, "jpeg");
    assertEquals(60, ImageHeader.read(Arrays.copyOf(jpeg, 700), 0).height());
  }

  @Test
  void otherFormatsAre415AndBrokenHeaders400NamingTheImage() throws Exception {
    ApiError gif = refused(encode(2, 2, "gif"));
    assertEquals(415, gif.status());
    assertTrue(gif.getMessage().contains("image/gif") && gif.getMessage().contains("image/png, image/jpeg"), gif.getMessage());
    assertEquals(415, refused(encode(2, 2, "bmp")).status());
    ApiError text = refused("{\"not\": \"an image\"}".getBytes());
    assertEquals(400, text.status());
    assertTrue(text.getMessage().startsWith("image 3 "), text.getMessage());
    assertEquals(400, refused(Arrays.copyOf(encode(5, 5, "png"), 20)).status());
    assertEquals(400, refused(new byte[0]).status());
    // A JPEG that reaches its scan data without a frame header, and one whose segment length is zero.
    assertEquals(400, refused(new byte[] {(byte) 0xff, (byte) 0xd8, (byte) 0xff, (byte) 0xda, 0, 2}).status());
    assertEquals(400, refused(new byte[] {(byte) 0xff, (byte) 0xd8, (byte) 0xff, (byte) 0xe0, 0, 0, 0}).status());
    // Thousands of empty segments before any frame header: refused after a bounded walk, not read to the end.
    byte[] padded = new byte[4 + 4 * 10_000];
    padded[0] = (byte) 0xff;
    padded[1] = (byte) 0xd8;
    for (int i = 2; i + 3 < padded.length; i += 4) {
      padded[i] = (byte) 0xff;
      padded[i + 1] = (byte) 0xfe;
      padded[i + 3] = 2;
    }
    assertTrue(refused(padded).getMessage().contains("4096 markers"));
    // A frame header declaring 0 pixels.
    assertEquals(400, refused(new byte[] {(byte) 0xff, (byte) 0xd8, (byte) 0xff, (byte) 0xc0, 0, 11, 8, 0, 0, 0, 0, 3, 0}).status());
  }

  /** The committed WebP files (functions/src/test/resources/webp/make.sh: libwebp's cwebp from 20 × 20 PNGs). */
  static byte[] webp(String name) throws Exception {
    return Files.readAllBytes(Path.of("../functions/src/test/resources/webp", name));
  }

  static byte[] le(long v, int bytes) {
    byte[] out = new byte[bytes];
    for (int i = 0; i < bytes; i++) {
      out[i] = (byte) (v >>> (8 * i));
    }
    return out;
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  /** A chunk: its tag, its size, its data, padded to an even length. */
  static byte[] chunk(String tag, byte[] data) {
    return concat(tag.getBytes(), le(data.length, 4), data, new byte[data.length & 1]);
  }

  /** A RIFF/WEBP file around {@code chunks}, its size field telling the truth. */
  static byte[] riff(byte[]... chunks) {
    byte[] body = concat(chunks);
    return concat("RIFF".getBytes(), le(4 + body.length, 4), "WEBP".getBytes(), body);
  }

  static byte[] vp8(int w, int h) {
    return chunk("VP8 ", concat(new byte[] {0x10, 0x02, 0x00, (byte) 0x9d, 0x01, 0x2a}, le(w, 2), le(h, 2)));
  }

  static byte[] vp8l(int w, int h) {
    return chunk("VP8L", concat(new byte[] {0x2f}, le((w - 1) | (long) (h - 1) << 14, 4)));
  }

  static byte[] vp8x(int flags, int w, int h) {
    return chunk("VP8X", concat(new byte[] {(byte) flags, 0, 0, 0}, le(w - 1, 3), le(h - 1, 3)));
  }

  @Test
  void webpSizesComeFromTheirVp8Vp8lOrVp8xChunk() throws Exception {
    for (String name : List.of("lossy.webp", "lossless.webp", "extended.webp")) {
      assertEquals(new ImageHeader("webp", 20, 20), ImageHeader.read(webp(name), 0), name);
    }
    // The bit fields at their limits: VP8's 14-bit sizes (the 2 scale bits above them ignored), VP8L's 14 bits + 1.
    assertEquals(new ImageHeader("webp", 16383, 3), ImageHeader.read(riff(vp8(16383 | 0xc000, 3)), 0));
    assertEquals(new ImageHeader("webp", 16384, 16384), ImageHeader.read(riff(vp8l(16384, 16384)), 0));
    // Extended: the canvas, once the image chunk after the metadata chunks agrees with it; bytes after the RIFF ignored.
    byte[] extended = riff(vp8x(0x20, 300, 200), chunk("ICCP", new byte[33]), chunk("ALPH", new byte[4]), vp8(300, 200));
    assertEquals(new ImageHeader("webp", 300, 200), ImageHeader.read(concat(extended, new byte[9]), 0));
    assertEquals(new ImageHeader("webp", 5, 7), ImageHeader.read(riff(vp8x(0x10, 5, 7), vp8l(5, 7)), 0));
    // A size past the pixel bound is the upload's 413, read from the header alone.
    ApiError big = assertThrows(ApiError.class, () -> MediaUpload.checked(List.of(riff(vp8l(16384, 16384))), null,
        MediaUpload.Bounds.DEFAULT, MediaUpload.Media.IMAGE));
    assertEquals(413, big.status());
    assertTrue(big.getMessage().contains("max_pixels"), big.getMessage());
  }

  @Test
  void animatedWebpIs415AndTruncatedOrLyingWebpHeaders400() throws Exception {
    ApiError animated = refused(webp("animated.webp"));
    assertEquals(415, animated.status());
    assertTrue(animated.getMessage().contains("animated WebP"), animated.getMessage());
    assertEquals(415, refused(riff(vp8x(0x02, 20, 20), chunk("ANIM", new byte[6]))).status());
    assertEquals(415, refused(riff(vp8x(0, 20, 20), chunk("ANMF", new byte[16]))).status(), "ANMF without the flag");

    byte[] lossy = webp("lossy.webp");
    ApiError cut = refused(Arrays.copyOf(lossy, 100));
    assertEquals(400, cut.status());
    assertTrue(cut.getMessage().contains("image 3 is a truncated WebP: its RIFF header declares " + lossy.length
        + " bytes, the file has 100"), cut.getMessage());
    // A RIFF size claiming more than the file, one claiming less than its first chunk, a chunk claiming more.
    byte[] longer = lossy.clone();
    longer[4] = (byte) 0xff;
    assertEquals(400, refused(longer).status());
    byte[] shorter = lossy.clone();
    System.arraycopy(le(20, 4), 0, shorter, 4, 4);
    assertTrue(refused(shorter).getMessage().contains("chunk 'VP8 ' at byte 12 declares"), refused(shorter).getMessage());
    byte[] chunkLies = lossy.clone();
    System.arraycopy(le(1 << 30, 4), 0, chunkLies, 16, 4);
    assertTrue(refused(chunkLies).getMessage().contains("declares 1073741824 bytes"), refused(chunkLies).getMessage());
    assertEquals(400, refused(riff()).status(), "no chunk at all");
    assertEquals(400, refused(riff(chunk("VP8 ", new byte[6]))).status(), "a VP8 chunk shorter than its header");
    assertEquals(400, refused(riff(chunk("VP8L", new byte[2]))).status(), "a VP8L chunk shorter than its header");

    // Malformed data: not a key frame, no start code, no VP8L signature, a VP8L version that does not exist, 0 pixels.
    byte[] inter = riff(vp8(20, 20));
    inter[20] = 0x11;
    assertTrue(refused(inter).getMessage().contains("key frame"));
    byte[] noStart = riff(vp8(20, 20));
    noStart[23] = 0;
    assertTrue(refused(noStart).getMessage().contains("start code"));
    byte[] noSignature = riff(vp8l(20, 20));
    noSignature[20] = 0x2e;
    assertTrue(refused(noSignature).getMessage().contains("signature"));
    byte[] version = riff(vp8l(20, 20));
    version[24] |= (byte) 0x20;
    assertTrue(refused(version).getMessage().contains("version 1"));
    assertTrue(refused(riff(vp8(0, 20))).getMessage().contains("declares 0 × 20 pixels"));

    // Extended headers that lie: a canvas the image does not fill, no image chunk, endless metadata chunks.
    ApiError canvas = refused(riff(vp8x(0, 20, 20), vp8(16000, 16000)));
    assertEquals(400, canvas.status());
    assertTrue(canvas.getMessage().contains("20 × 20 canvas, but its image is 16000 × 16000"), canvas.getMessage());
    assertTrue(refused(riff(vp8x(0, 20, 20), chunk("EXIF", new byte[8]))).getMessage().contains("no VP8 or VP8L"));
    byte[][] many = new byte[WebpHeader.MAX_CHUNKS + 2][];
    many[0] = vp8x(0, 4, 4);
    for (int i = 1; i < many.length - 1; i++) {
      many[i] = chunk("XMP ", new byte[0]);
    }
    many[many.length - 1] = vp8(4, 4);
    assertTrue(refused(riff(many)).getMessage().contains("within 64 chunks"));
    assertEquals(400, refused(riff(vp8x(0, 20, 20))).status(), "nothing after the extended header");
    assertEquals(400, refused(riff(chunk("VP8X", new byte[4]))).status(), "a VP8X chunk shorter than 10 bytes");
    assertTrue(refused(riff(chunk("JUNK", new byte[4]))).getMessage().contains("first chunk is 'JUNK'"));
  }
}
