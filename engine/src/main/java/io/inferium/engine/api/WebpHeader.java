package io.inferium.engine.api;

/**
 * The size a WebP file declares, read from its RIFF chunks without decoding: the first chunk is {@code VP8 } (lossy:
 * the key frame's 14-bit width and height), {@code VP8L} (lossless: the 14-bit sizes after its signature byte) or
 * {@code VP8X} (extended: a 24-bit canvas, then a bounded walk to its {@code VP8 }/{@code VP8L} image chunk, whose size
 * must be the canvas's, since the worker's decoder sizes its frame from the bitstream). Every length is checked
 * against the bytes there are: a RIFF or chunk that declares more than the file holds is a truncated file (400).
 * Animated WebP is refused with 415: the worker classifies one still picture, and taking an animation's first frame
 * would answer for a picture the caller never chose (and leave the decoding of the other frames unbounded).
 */
final class WebpHeader {

  /** Chunks walked after a {@code VP8X} header before its image chunk: real files have 0–3 (ICCP, ALPH). */
  static final int MAX_CHUNKS = 64;

  private WebpHeader() {}

  /** The declared picture size, before the pixel bound is applied. */
  record Size(long width, long height) {}

  static boolean is(byte[] b) {
    return MediaBytes.tag(b, 0, "RIFF") && MediaBytes.tag(b, 8, "WEBP");
  }

  /** Reads the size of a file {@link #is} accepted; {@code which} names it in messages. */
  static Size read(byte[] b, String which) {
    long declared = u32(b, 4) + 8;
    if (declared > b.length) {
      throw truncated(which, "its RIFF header declares " + declared + " bytes, the file has " + b.length);
    }
    int end = (int) declared; // trailing bytes after the RIFF are ignored, as decoders do
    Chunk first = Chunk.at(b, 12, end, which);
    return switch (first.fourcc) {
      case "VP8 " -> vp8(b, first, which);
      case "VP8L" -> vp8l(b, first, which);
      case "VP8X" -> extended(b, first, end, which);
      case "ANIM", "ANMF" -> throw animated(which);
      default -> throw ApiError.badRequest(which + " is a malformed WebP: its first chunk is '" + first.fourcc
          + "', not VP8, VP8L or VP8X");
    };
  }

  /** A chunk header: its four-character code, where its data starts and how many bytes it declares. */
  private record Chunk(String fourcc, int data, int size) {

    static Chunk at(byte[] b, int at, int end, String which) {
      if (at + 8 > end) {
        throw truncated(which, "a chunk header at byte " + at + " is cut short");
      }
      long size = u32(b, at + 4);
      if (at + 8 + size > end) {
        throw truncated(which, "chunk '" + tagAt(b, at) + "' at byte " + at + " declares " + size + " bytes, only "
            + (end - at - 8) + " follow");
      }
      return new Chunk(tagAt(b, at), at + 8, (int) size);
    }

    /** Where the next chunk starts (chunks are padded to an even length). */
    long next() {
      return (long) data + size + (size & 1);
    }
  }

  private static Size vp8(byte[] b, Chunk c, String which) {
    int d = c.data;
    if (c.size < 10) {
      throw truncated(which, "its VP8 chunk has " + c.size + " bytes, fewer than a frame header's 10");
    }
    if ((b[d] & 1) != 0) {
      throw ApiError.badRequest(which + " is a malformed WebP: its VP8 data does not start with a key frame");
    }
    if ((b[d + 3] & 0xff) != 0x9d || (b[d + 4] & 0xff) != 0x01 || (b[d + 5] & 0xff) != 0x2a) {
      throw ApiError.badRequest(which + " is a malformed WebP: no VP8 start code in its key frame header");
    }
    return new Size(u16(b, d + 6) & 0x3fff, u16(b, d + 8) & 0x3fff);
  }

  private static Size vp8l(byte[] b, Chunk c, String which) {
    int d = c.data;
    if (c.size < 5) {
      throw truncated(which, "its VP8L chunk has " + c.size + " bytes, fewer than a header's 5");
    }
    if ((b[d] & 0xff) != 0x2f) {
      throw ApiError.badRequest(which + " is a malformed WebP: no VP8L signature (0x2f)");
    }
    long bits = u32(b, d + 1);
    if (bits >>> 29 != 0) {
      throw ApiError.badRequest(which + " is a malformed WebP: VP8L version " + (bits >>> 29) + " (only 0 exists)");
    }
    return new Size((bits & 0x3fff) + 1, ((bits >>> 14) & 0x3fff) + 1);
  }

  private static Size extended(byte[] b, Chunk x, int end, String which) {
    int d = x.data;
    if (x.size < 10) {
      throw truncated(which, "its VP8X chunk has " + x.size + " bytes, fewer than 10");
    }
    if ((b[d] & 0x02) != 0) {
      throw animated(which);
    }
    Size canvas = new Size(u24(b, d + 4) + 1, u24(b, d + 7) + 1);
    long at = x.next();
    for (int n = 0; n < MAX_CHUNKS; n++) {
      if (at >= end) {
        break;
      }
      Chunk c = Chunk.at(b, (int) at, end, which);
      Size image = switch (c.fourcc) {
        case "VP8 " -> vp8(b, c, which);
        case "VP8L" -> vp8l(b, c, which);
        case "ANIM", "ANMF" -> throw animated(which);
        default -> null; // ICCP, ALPH, EXIF, XMP and unknown chunks: skipped
      };
      if (image != null) {
        if (!image.equals(canvas)) {
          throw ApiError.badRequest(which + " is a malformed WebP: its extended header declares a " + canvas.width()
              + " × " + canvas.height() + " canvas, but its image is " + image.width() + " × " + image.height());
        }
        return canvas;
      }
      at = c.next();
    }
    throw ApiError.badRequest(which + " is a truncated or malformed WebP: no VP8 or VP8L image chunk within "
        + MAX_CHUNKS + " chunks after its extended header");
  }

  private static ApiError animated(String which) {
    return new ApiError(415, which + " is an animated WebP, which is not supported: send one still image ("
        + ImageHeader.SUPPORTED + ")");
  }

  private static ApiError truncated(String which, String detail) {
    return ApiError.badRequest(which + " is a truncated WebP: " + detail);
  }

  private static String tagAt(byte[] b, int at) {
    StringBuilder s = new StringBuilder(4);
    for (int i = at; i < at + 4; i++) {
      char c = (char) (b[i] & 0xff);
      s.append(c >= 0x20 && c < 0x7f && c != '\'' ? c : '?');
    }
    return s.toString();
  }

  private static long u32(byte[] b, int at) {
    return (b[at] & 0xffL) | (b[at + 1] & 0xffL) << 8 | (b[at + 2] & 0xffL) << 16 | (b[at + 3] & 0xffL) << 24;
  }

  private static long u24(byte[] b, int at) {
    return (b[at] & 0xffL) | (b[at + 1] & 0xffL) << 8 | (b[at + 2] & 0xffL) << 16;
  }

  private static int u16(byte[] b, int at) {
    return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8;
  }
}
