package io.inferium.functions.media;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.ImagePreprocess;
import io.inferium.functions.runtime.Cancellation;
import io.inferium.functions.tensor.DataType;
import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.tensor.Tensors;
import io.vertx.core.json.JsonObject;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class ImageInputsTest {

  /** A 3 × 2 image whose every pixel differs: (x, y) → r = 10 + x, g = 100 + y, b = 200 + x + 3y. */
  private static BufferedImage sample() {
    BufferedImage img = new BufferedImage(3, 2, BufferedImage.TYPE_INT_RGB);
    for (int y = 0; y < 2; y++) {
      for (int x = 0; x < 3; x++) {
        img.setRGB(x, y, (10 + x) << 16 | (100 + y) << 8 | (200 + x + 3 * y));
      }
    }
    return img;
  }

  static byte[] encode(BufferedImage img, String format) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertTrue(ImageIO.write(img, format, out), format);
    return out.toByteArray();
  }

  private static ImagePreprocess spec(String json) {
    return ImagePreprocess.fromJson(new JsonObject(json)).withInput("x");
  }

  private static float[] floats(Tensor t) {
    return Tensors.toFloatArray(t);
  }

  @Test
  void aPngAtTheTargetSizePassesUnchangedInEachLayoutAndChannelOrder() throws Exception {
    byte[] png = encode(sample(), "png");
    Tensor nchw = ImageInputs.tensor(spec("{\"size\": {\"width\": 3, \"height\": 2}, \"layout\": \"NCHW\"}"), List.of(png), null);
    assertArrayEquals(new long[] {1, 3, 2, 3}, nchw.shape());
    float[] v = floats(nchw);
    // channel r, row 0: 10, 11, 12 (scaled by 1/255: mean 0, std 1)
    assertEquals(10 / 255f, v[0], 1e-6);
    assertEquals(12 / 255f, v[2], 1e-6);
    assertEquals(101 / 255f, v[6 + 3], 1e-6); // channel g, row 1, x 0
    assertEquals((200 + 2 + 3) / 255f, v[12 + 5], 1e-6); // channel b, row 1, x 2

    Tensor nhwcBgr = ImageInputs.tensor(spec("{\"size\": {\"width\": 3, \"height\": 2}, \"layout\": \"nhwc\", "
        + "\"channels\": \"bgr\", \"mean\": [0.5, 0.5, 0.5], \"std\": [0.25, 0.25, 0.25]}"), List.of(png), null);
    assertArrayEquals(new long[] {1, 2, 3, 3}, nhwcBgr.shape());
    float[] w = floats(nhwcBgr);
    int at = (1 * 3 + 2) * 3; // y 1, x 2
    assertEquals(((205 / 255.0) - 0.5) / 0.25, w[at], 1e-5, "blue first");
    assertEquals(((101 / 255.0) - 0.5) / 0.25, w[at + 1], 1e-5);
    assertEquals(((12 / 255.0) - 0.5) / 0.25, w[at + 2], 1e-5);

    Tensor grayU8 = ImageInputs.tensor(spec("{\"size\": {\"width\": 3, \"height\": 2}, \"channels\": \"gray\", \"dtype\": \"UINT8\"}"),
        List.of(png, png), null);
    assertEquals(DataType.UINT8, grayU8.type());
    assertArrayEquals(new long[] {2, 1, 2, 3}, grayU8.shape());
    assertEquals(Math.round(0.299 * 10 + 0.587 * 100 + 0.114 * 200), grayU8.view().get(0) & 0xff);
  }

  @Test
  void resizingSamplesBilinearlyAndCenterCropKeepsTheMiddle() throws Exception {
    BufferedImage wide = new BufferedImage(8, 4, BufferedImage.TYPE_INT_RGB);
    for (int x = 0; x < 8; x++) {
      for (int y = 0; y < 4; y++) {
        wide.setRGB(x, y, (x * 30) << 16);
      }
    }
    byte[] png = encode(wide, "png");
    // stretch 8 → 4: target x samples source x = 2x + 0.5, halfway between two columns
    float[] s = floats(ImageInputs.tensor(spec("{\"size\": {\"width\": 4, \"height\": 4}, \"dtype\": \"FP32\"}"), List.of(png), null));
    assertEquals((0 + 30) / 2f / 255f, s[0], 1e-6);
    assertEquals((180 + 210) / 2f / 255f, s[3], 1e-6);
    // center-crop to 4 × 4: the middle columns 2..5, unscaled
    float[] c = floats(ImageInputs.tensor(spec("{\"size\": 4, \"resize\": \"center-crop\"}"), List.of(png), null));
    assertEquals(60 / 255f, c[0], 1e-6);
    assertEquals(150 / 255f, c[3], 1e-6);
  }

  @Test
  void jpegDecodesAndABytesInputIsReplacedWhileOtherInputsPass() throws Exception {
    byte[] jpeg = encode(sample(), "jpeg");
    Tensor images = Tensors.byteArrays("x", new long[] {1}, List.of(jpeg));
    Tensor other = Tensors.fp32("y", new long[] {1}, 7);
    JsonObject media = spec("{\"size\": {\"width\": 3, \"height\": 2}}").toJson();
    List<Tensor> out = MediaInputs.prepare(media, List.of(images, other), new Cancellation());
    assertEquals(DataType.FP32, out.get(0).type());
    assertArrayEquals(new long[] {1, 3, 2, 3}, out.get(0).shape());
    assertEquals(10 / 255f, floats(out.get(0))[0], 12 / 255f, "JPEG is lossy: near the drawn value");
    assertEquals(other, out.get(1));
  }

  @Test
  void corruptTruncatedForeignAndOversizedImagesAreRefusedWithoutDecoding() throws Exception {
    ImagePreprocess p = spec("{\"size\": 4}");
    byte[] png = encode(sample(), "png");
    MediaException truncated = assertThrows(MediaException.class,
        () -> ImageInputs.tensor(p, List.of(png, Arrays.copyOf(png, png.length / 2)), null));
    assertTrue(truncated.getMessage().startsWith("image 1 "), truncated.getMessage());
    assertFalse(truncated.tooLarge());
    byte[] garbage = png.clone();
    for (int i = 40; i < garbage.length - 12; i++) {
      garbage[i] = (byte) (i * 31);
    }
    assertThrows(MediaException.class, () -> ImageInputs.tensor(p, List.of(garbage), null));
    assertThrows(MediaException.class, () -> ImageInputs.tensor(p, List.of(encode(sample(), "gif")), null));
    assertThrows(MediaException.class, () -> ImageInputs.tensor(p, List.of(new byte[0]), null));
    // A valid PNG header declaring 20,000 × 20,000 pixels over a few bytes of data: refused from the header.
    MediaException bomb = assertThrows(MediaException.class, () -> ImageInputs.tensor(p, List.of(pngHeader(20_000, 20_000)), null));
    assertTrue(bomb.tooLarge(), bomb.getMessage());
    assertTrue(bomb.getMessage().contains("max_pixels"), bomb.getMessage());
    Cancellation cancelled = new Cancellation();
    cancelled.cancel();
    assertThrows(MediaException.class, () -> ImageInputs.tensor(p, List.of(png), cancelled));
  }

  /** A PNG signature and IHDR (with its CRC) declaring {@code w × h}, then an empty IDAT and IEND. */
  static byte[] pngHeader(int w, int h) {
    ByteBuffer b = ByteBuffer.allocate(8 + 25 + 12 + 12).order(ByteOrder.BIG_ENDIAN);
    b.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a});
    chunk(b, "IHDR", ByteBuffer.allocate(13).putInt(w).putInt(h).put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0)
        .put((byte) 0).array());
    chunk(b, "IDAT", new byte[0]);
    chunk(b, "IEND", new byte[0]);
    return b.array();
  }

  private static void chunk(ByteBuffer b, String type, byte[] data) {
    b.putInt(data.length);
    byte[] t = type.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    b.put(t).put(data);
    CRC32 crc = new CRC32();
    crc.update(t);
    crc.update(data);
    b.putInt((int) crc.getValue());
  }

  /** A committed WebP file (functions/src/test/resources/webp/make.sh: libwebp's cwebp from two shapes PNGs). */
  static byte[] webp(String name) throws Exception {
    try (var in = ImageInputsTest.class.getResourceAsStream("/webp/" + name)) {
      return in.readAllBytes();
    }
  }

  @Test
  void webpLossyLosslessAndExtendedDecodeAndAnimatedTruncatedOrOversizedAreRefused() throws Exception {
    // Lossless decodes to exactly the PNG it was made from; lossy to within a few levels of it.
    ImageDecoder.Pixels lossless = ImageDecoder.decode(webp("lossless.webp"), 0, 400);
    byte[] square = java.nio.file.Files.readAllBytes(java.nio.file.Path.of("../../engine/src/test/resources/shapes/02-square.png"));
    assertArrayEquals(ImageDecoder.decode(square, 0, 400).rgb(), lossless.rgb());
    ImageDecoder.Pixels lossy = ImageDecoder.decode(webp("lossy.webp"), 0, 400);
    assertEquals(20, lossy.width());
    assertEquals(20, lossy.height());
    byte[] circle = java.nio.file.Files.readAllBytes(java.nio.file.Path.of("../../engine/src/test/resources/shapes/01-circle.png"));
    int[] png = ImageDecoder.decode(circle, 0, 400).rgb();
    double error = 0;
    for (int i = 0; i < png.length; i++) {
      for (int shift = 0; shift < 24; shift += 8) {
        error += Math.abs(((png[i] >> shift) & 0xff) - ((lossy.rgb()[i] >> shift) & 0xff));
      }
    }
    assertTrue(error / (3 * png.length) < 12, "mean error " + error / (3 * png.length));
    // Extended (VP8X + the same VP8 bitstream + EXIF): the same pixels as the simple lossy file.
    assertArrayEquals(lossy.rgb(), ImageDecoder.decode(webp("extended.webp"), 0, 400).rgb());

    MediaException animated = assertThrows(MediaException.class, () -> ImageDecoder.decode(webp("animated.webp"), 1, 400));
    assertTrue(animated.getMessage().contains("image 1 is an animated WebP"), animated.getMessage());
    MediaException big = assertThrows(MediaException.class, () -> ImageDecoder.decode(webp("lossless.webp"), 0, 399));
    assertTrue(big.tooLarge() && big.getMessage().contains("max_pixels"), big.getMessage());
    byte[] whole = webp("lossy.webp");
    for (int cut : new int[] {12, 30, whole.length / 2}) {
      MediaException e = assertThrows(MediaException.class, () -> ImageDecoder.decode(Arrays.copyOf(whole, cut), 2, 400),
          "cut at " + cut);
      assertTrue(e.getMessage().startsWith("image 2"), e.getMessage());
    }
    byte[] scrambled = webp("lossless.webp");
    for (int i = 25; i < scrambled.length; i++) {
      scrambled[i] = (byte) (i * 31);
    }
    try {
      ImageDecoder.decode(scrambled, 0, 400);
    } catch (MediaException expected) {
      assertFalse(expected.tooLarge(), expected.getMessage());
    }
  }
}
