package io.inferium.functions.media;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Iterator;
import java.util.Locale;
import java.util.Set;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Decodes an untrusted PNG or JPEG with the JDK's own readers (javax.imageio), or a still WebP with TwelveMonkeys'
 * reader (a javax.imageio service provider on the node's class path; why, in functions/node/pom.xml), bounded: the size the
 * file declares is read first and an image of more than {@code maxPixels} is refused before any pixel is
 * decoded; any failure of the reader (a corrupt or truncated file, an exception inside the codec) is a
 * {@link MediaException}, never a crash of the worker. No cache files are written.
 */
public final class ImageDecoder {

  /** The reader formats served; ImageIO also reads GIF, BMP, WBMP and TIFF, which the gateway does not admit. */
  private static final Set<String> FORMATS = Set.of("png", "jpeg", "webp");

  static {
    ImageIO.setUseCache(false);
  }

  private ImageDecoder() {}

  /** Pixels of a decoded image as 0xRRGGBB (alpha dropped), row-major. */
  public record Pixels(int width, int height, int[] rgb) {}

  /** Decodes {@code bytes} (image {@code index} of its request, for messages). */
  public static Pixels decode(byte[] bytes, int index, long maxPixels) throws MediaException {
    try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
      Iterator<ImageReader> readers = in == null ? null : ImageIO.getImageReaders(in);
      ImageReader reader = null;
      while (readers != null && readers.hasNext() && reader == null) {
        ImageReader r = readers.next();
        if (FORMATS.contains(r.getFormatName().toLowerCase(Locale.ROOT))) {
          reader = r;
        }
      }
      if (reader == null) {
        throw new MediaException("image " + index + " is not a PNG, JPEG or WebP file", false);
      }
      try {
        boolean webp = reader.getFormatName().equalsIgnoreCase("webp");
        // A WebP is read seekable: an animation is found by counting its frames (a walk over its chunk headers).
        reader.setInput(in, !webp, true);
        if (webp && reader.getNumImages(true) != 1) {
          throw new MediaException("image " + index + " is an animated WebP: send one still image", false);
        }
        int width = reader.getWidth(0);
        int height = reader.getHeight(0);
        if (width <= 0 || height <= 0) {
          throw new MediaException("image " + index + " declares no pixels (" + width + " × " + height + ")", false);
        }
        if ((long) width * height > maxPixels) {
          throw new MediaException("image " + index + " is " + width + " × " + height + " pixels, more than the limit of "
              + maxPixels + " (max_pixels)", true);
        }
        BufferedImage image = reader.read(0);
        return pixels(image);
      } finally {
        reader.dispose();
      }
    } catch (MediaException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw new MediaException("image " + index + " could not be decoded: " + e.getMessage(), false);
    } catch (OutOfMemoryError e) {
      // The large arrays of one decode failed to allocate: that request is refused, the worker goes on (an answer is
      // owed: a request left unanswered would run into its deadline and be blamed on this node).
      throw new MediaException("image " + index + " is too large to decode in this worker's memory", true);
    }
  }

  private static Pixels pixels(BufferedImage image) {
    int w = image.getWidth();
    int h = image.getHeight();
    int[] rgb = new int[Math.multiplyExact(w, h)];
    if (image.getType() == BufferedImage.TYPE_BYTE_GRAY || image.getType() == BufferedImage.TYPE_USHORT_GRAY) {
      // getRGB would convert the grey samples from a linear colour space and change their values: take them as stored.
      Raster raster = image.getRaster();
      int shift = image.getType() == BufferedImage.TYPE_USHORT_GRAY ? 8 : 0;
      int[] row = new int[w];
      for (int y = 0; y < h; y++) {
        raster.getSamples(0, y, w, 1, 0, row);
        for (int x = 0; x < w; x++) {
          int v = (row[x] >> shift) & 0xff;
          rgb[y * w + x] = v << 16 | v << 8 | v;
        }
      }
    } else {
      image.getRGB(0, 0, w, h, rgb, 0, w);
      for (int i = 0; i < rgb.length; i++) {
        rgb[i] &= 0xffffff;
      }
    }
    return new Pixels(w, h, rgb);
  }
}
