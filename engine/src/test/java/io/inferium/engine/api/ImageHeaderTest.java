package io.inferium.engine.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
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
    assertEquals(415, refused("RIFF\0\0\0\0WEBPVP8L".getBytes()).status());
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
}
