package io.inferium.engine.api;

/**
 * What the gateway learns about an uploaded image without decoding it: its format from the magic
 * bytes and the pixel dimensions its header declares (PNG's IHDR, JPEG's first start-of-frame
 * segment, found by hopping from segment to segment, WebP's VP8, VP8L or VP8X chunk, {@link WebpHeader}).
 * Decoding happens only in a worker; this reads at most the header bytes and a bounded walk over JPEG
 * segment or WebP chunk lengths, so it is cheap on the event loop.
 *
 * @param format {@code png}, {@code jpeg} or {@code webp}
 */
record ImageHeader(String format, int width, int height) {

  /** The media types served, as error messages name them. */
  static final String SUPPORTED = "image/png, image/jpeg, image/webp";

  long pixels() {
    return (long) width * height;
  }

  String mediaType() {
    return "image/" + format;
  }

  /**
   * Reads the header of image {@code index} (for messages).
   *
   * @throws ApiError 415 for a known but unsupported format (GIF, BMP, TIFF, animated WebP), 400 for anything else
   *                  that is not a well-formed PNG, JPEG or WebP header
   */
  static ImageHeader read(byte[] b, int index) {
    String which = "image " + index;
    if (b.length >= 8 && (b[0] & 0xff) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G' && b[4] == 0x0d
        && b[5] == 0x0a && b[6] == 0x1a && b[7] == 0x0a) {
      if (b.length < 24 || b[12] != 'I' || b[13] != 'H' || b[14] != 'D' || b[15] != 'R') {
        throw ApiError.badRequest(which + " is a truncated or malformed PNG: no IHDR header");
      }
      return dimensions("png", u32(b, 16), u32(b, 20), which);
    }
    if (b.length >= 3 && (b[0] & 0xff) == 0xff && (b[1] & 0xff) == 0xd8 && (b[2] & 0xff) == 0xff) {
      return jpeg(b, which);
    }
    if (WebpHeader.is(b)) {
      WebpHeader.Size size = WebpHeader.read(b, which);
      return dimensions("webp", size.width(), size.height(), which);
    }
    String other = unsupported(b);
    if (other != null) {
      throw new ApiError(415, which + " is " + other + ", which is not supported: send " + SUPPORTED);
    }
    throw ApiError.badRequest(which + " is not a PNG, JPEG or WebP file (supported: " + SUPPORTED + ")");
  }

  /** Markers and fill bytes read before a JPEG's frame header at most: real files have a few dozen. */
  static final int MAX_JPEG_STEPS = 4096;

  private static ImageHeader jpeg(byte[] b, String which) {
    int i = 2;
    for (int steps = 0; i + 1 < b.length; steps++) {
      if (steps == MAX_JPEG_STEPS) {
        throw ApiError.badRequest(which + " is a malformed JPEG: no frame header (SOF) within its first "
            + MAX_JPEG_STEPS + " markers");
      }
      if ((b[i] & 0xff) != 0xff) {
        throw ApiError.badRequest(which + " is a malformed JPEG: expected a marker at byte " + i);
      }
      int marker = b[i + 1] & 0xff;
      if (marker == 0xff) {
        i++; // fill byte
        continue;
      }
      if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
        i += 2; // markers without a length
        continue;
      }
      if (marker == 0xd9 || marker == 0xda) {
        break; // end of image, or scan data before any frame header
      }
      if (i + 3 >= b.length) {
        break;
      }
      int length = u16(b, i + 2);
      if (length < 2) {
        throw ApiError.badRequest(which + " is a malformed JPEG: segment length " + length + " at byte " + i);
      }
      boolean frame = marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc;
      if (frame) {
        if (i + 8 >= b.length || length < 8) {
          throw ApiError.badRequest(which + " is a truncated JPEG: its frame header is cut short");
        }
        return dimensions("jpeg", u16(b, i + 7), u16(b, i + 5), which);
      }
      i += 2 + length;
    }
    throw ApiError.badRequest(which + " is a truncated or malformed JPEG: no frame header (SOF) before its image data");
  }

  private static ImageHeader dimensions(String format, long width, long height, String which) {
    if (width <= 0 || height <= 0 || width > Integer.MAX_VALUE || height > Integer.MAX_VALUE) {
      throw ApiError.badRequest(which + " declares " + width + " × " + height + " pixels");
    }
    return new ImageHeader(format, (int) width, (int) height);
  }

  private static String unsupported(byte[] b) {
    if (b.length >= 4 && b[0] == 'G' && b[1] == 'I' && b[2] == 'F' && b[3] == '8') {
      return "a GIF image (image/gif)";
    }
    if (b.length >= 2 && b[0] == 'B' && b[1] == 'M') {
      return "a BMP image (image/bmp)";
    }
    if (b.length >= 4 && ((b[0] == 'I' && b[1] == 'I' && b[2] == 42 && b[3] == 0) || (b[0] == 'M' && b[1] == 'M' && b[2] == 0 && b[3] == 42))) {
      return "a TIFF image (image/tiff)";
    }
    return null;
  }

  private static long u32(byte[] b, int at) {
    return ((long) (b[at] & 0xff) << 24) | ((b[at + 1] & 0xff) << 16) | ((b[at + 2] & 0xff) << 8) | (b[at + 3] & 0xff);
  }

  private static int u16(byte[] b, int at) {
    return ((b[at] & 0xff) << 8) | (b[at + 1] & 0xff);
  }
}
