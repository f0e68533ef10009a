package io.inferium.engine.api;

import static io.inferium.engine.api.MediaBytes.tag;

/**
 * What the gateway learns about an uploaded video without decoding it: an MP4 (ISO BMFF) file's box headers —
 * the movie's duration ({@code moov/mvhd}), and of its video track ({@code hdlr} {@code vide}) the frame size
 * ({@code tkhd}) and codec ({@code stsd}'s first entry). A bounded walk: at most {@link #MAX_BOXES} box headers,
 * {@link #MAX_DEPTH} levels, nothing read past the bytes present. The frames are decoded only in a worker.
 *
 * @param millis the duration the movie header declares, rounded up
 */
record Mp4Header(int width, int height, String codec, long millis) {

  static final String SUPPORTED = "video/mp4 (H.264)";
  static final int MAX_BOXES = 4096;
  static final int MAX_DEPTH = 8;

  long pixels() {
    return (long) width * height;
  }

  /**
   * @throws ApiError 415 for a known but unsupported format (WebM/Matroska, AVI, an MP4 whose video is not
   *                  H.264), 400 for a broken or truncated file
   */
  static Mp4Header read(byte[] b, int index) {
    String which = "video " + index;
    if (b.length >= 4 && (b[0] & 0xff) == 0x1a && (b[1] & 0xff) == 0x45 && (b[2] & 0xff) == 0xdf && (b[3] & 0xff) == 0xa3) {
      throw new ApiError(415, which + " is WebM/Matroska, which is not supported: send " + SUPPORTED);
    }
    if (b.length >= 12 && tag(b, 0, "RIFF") && tag(b, 8, "AVI ")) {
      throw new ApiError(415, which + " is AVI, which is not supported: send " + SUPPORTED);
    }
    if (b.length < 8 || !(tag(b, 4, "ftyp") || tag(b, 4, "moov") || tag(b, 4, "mdat") || tag(b, 4, "free")
        || tag(b, 4, "wide") || tag(b, 4, "skip"))) {
      throw ApiError.badRequest(which + " is not an MP4 file (no ISO BMFF box at its start); supported: " + SUPPORTED);
    }
    Walk w = new Walk(which);
    w.boxes(b, 0, b.length, 0);
    if (w.timescale == 0) {
      throw ApiError.badRequest(which + " is a truncated or malformed MP4: no movie header (moov/mvhd) with a time scale");
    }
    if (w.codec == null) {
      throw ApiError.badRequest(which + " has no video track: send " + SUPPORTED);
    }
    if (!w.codec.equals("avc1") && !w.codec.equals("avc3")) {
      throw new ApiError(415, which + "'s video is '" + w.codec + "', not H.264 (avc1): send " + SUPPORTED);
    }
    if (w.width < 1 || w.height < 1) {
      throw ApiError.badRequest(which + " declares a " + w.width + " × " + w.height + " video track");
    }
    long millis = w.duration < 0 ? Long.MAX_VALUE : (long) Math.ceil(w.duration * 1000.0 / w.timescale);
    if (millis == 0) {
      throw ApiError.badRequest(which + " declares no duration (a fragmented MP4?): send " + SUPPORTED + " with its moov box");
    }
    return new Mp4Header(w.width, w.height, w.codec, millis);
  }

  /** The state of one walk over the box tree. */
  private static final class Walk {
    final String which;
    int boxes;
    long timescale;
    long duration;
    int width;
    int height;
    String codec;
    // Of the track being walked: its frame size and codec count only once its handler says video.
    String handler;
    int trackWidth;
    int trackHeight;
    String trackCodec;

    Walk(String which) {
      this.which = which;
    }

    void boxes(byte[] b, int from, int to, int depth) {
      int at = from;
      while (at + 8 <= to) {
        if (++boxes > MAX_BOXES) {
          throw ApiError.badRequest(which + " has more than " + MAX_BOXES + " MP4 boxes");
        }
        long size = u32(b, at);
        String type = new String(b, at + 4, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
        int header = 8;
        if (size == 1) {
          if (at + 16 > to) {
            break;
          }
          size = u64(b, at + 8);
          header = 16;
        } else if (size == 0) {
          size = to - at; // to the end of the enclosing box
        }
        if (size < header) {
          throw ApiError.badRequest(which + " is a malformed MP4: box '" + type + "' at byte " + at + " declares "
              + size + " bytes");
        }
        int end = (int) Math.min(to, at + size); // a box claiming more than the file ends at the file's end
        int body = at + header;
        switch (type) {
          case "moov", "mdia", "minf", "stbl" -> {
            if (depth < MAX_DEPTH) {
              boxes(b, body, end, depth + 1);
            }
          }
          case "trak" -> {
            handler = null;
            trackWidth = 0;
            trackHeight = 0;
            trackCodec = null;
            if (depth < MAX_DEPTH) {
              boxes(b, body, end, depth + 1);
            }
            if ("vide".equals(handler) && codec == null) {
              width = trackWidth;
              height = trackHeight;
              codec = trackCodec;
            }
          }
          case "mvhd" -> movieHeader(b, body, end);
          case "tkhd" -> {
            if (end - body >= 84) { // width and height, 16.16 fixed point, are the header's last 8 bytes
              trackWidth = (int) (u32(b, end - 8) >>> 16);
              trackHeight = (int) (u32(b, end - 4) >>> 16);
            }
          }
          case "hdlr" -> {
            // The media's handler (mdia/hdlr) comes first; QuickTime files add a data handler (minf/hdlr) after it.
            if (handler == null && end - body >= 12) {
              handler = new String(b, body + 8, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
            }
          }
          case "stsd" -> {
            if (end - body >= 16) {
              trackCodec = new String(b, body + 12, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
            }
          }
          default -> { }
        }
        at = end;
      }
    }

    private void movieHeader(byte[] b, int body, int end) {
      int version = body < end ? b[body] & 0xff : -1;
      if (version == 0 && end - body >= 20) {
        timescale = u32(b, body + 12);
        long d = u32(b, body + 16);
        duration = d == 0xffffffffL ? -1 : d;
      } else if (version == 1 && end - body >= 32) {
        timescale = u32(b, body + 20);
        long d = u64(b, body + 24);
        duration = d < 0 ? -1 : d;
      } else {
        throw ApiError.badRequest(which + " is a malformed MP4: its movie header (mvhd) is cut short or of version "
            + version);
      }
    }
  }

  private static long u32(byte[] b, int at) {
    return (long) (b[at] & 0xff) << 24 | (b[at + 1] & 0xff) << 16 | (b[at + 2] & 0xff) << 8 | (b[at + 3] & 0xff);
  }

  private static long u64(byte[] b, int at) {
    return u32(b, at) << 32 | u32(b, at + 4);
  }
}
