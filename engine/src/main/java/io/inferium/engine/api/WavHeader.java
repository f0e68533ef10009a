package io.inferium.engine.api;

import static io.inferium.engine.api.MediaBytes.tag;

/**
 * What the gateway learns about an uploaded audio clip without decoding it: a RIFF/WAVE file's format
 * chunk (PCM or float, channels, rate, bits) and its data chunk's length, hence its duration (bounded walk
 * over at most {@link #MAX_CHUNKS} chunk headers). The samples are decoded only in a worker.
 *
 * @param millis the duration the data chunk holds (not more than the bytes present), rounded up
 */
record WavHeader(int channels, int sampleRate, int bits, long millis) {

  static final String SUPPORTED = "audio/wav (PCM or 32-bit float)";
  static final int MAX_CHUNKS = 64;

  /**
   * @throws ApiError 415 for a known but unsupported format (FLAC, Ogg, MP3, a compressed WAV), 400 otherwise
   */
  static WavHeader read(byte[] b, int index) {
    String which = "clip " + index;
    if (b.length < 12 || !tag(b, 0, "RIFF") || !tag(b, 8, "WAVE")) {
      String other = b.length >= 4 && tag(b, 0, "fLaC") ? "FLAC (audio/flac)" : b.length >= 4 && tag(b, 0, "OggS")
          ? "Ogg (audio/ogg)" : b.length >= 3 && (tag(b, 0, "ID3") || ((b[0] & 0xff) == 0xff && (b[1] & 0xe0) == 0xe0))
          ? "MP3 (audio/mpeg)" : null;
      if (other != null) {
        throw new ApiError(415, which + " is " + other + ", which is not supported: send " + SUPPORTED);
      }
      throw ApiError.badRequest(which + " is not a WAV file (RIFF/WAVE); supported: " + SUPPORTED);
    }
    int at = 12;
    int format = -1;
    int channels = 0;
    long rate = 0;
    int block = 0;
    int bits = 0;
    for (int n = 0; n < MAX_CHUNKS && at + 8 <= b.length; n++) {
      long size = u32(b, at + 4);
      int body = at + 8;
      if (tag(b, at, "fmt ")) {
        if (size < 16 || body + 16 > b.length) {
          throw ApiError.badRequest(which + " is a malformed WAV: its fmt chunk is cut short");
        }
        format = u16(b, body);
        channels = u16(b, body + 2);
        rate = u32(b, body + 4);
        block = u16(b, body + 12);
        bits = u16(b, body + 14);
      } else if (tag(b, at, "data")) {
        if (format < 0) {
          throw ApiError.badRequest(which + " is a malformed WAV: its data chunk comes before its fmt chunk");
        }
        if (format != 1 && format != 3 && format != 0xfffe) {
          throw new ApiError(415, which + " is a compressed WAV (format " + format + "), which is not supported: send "
              + SUPPORTED);
        }
        if (channels < 1 || channels > 8 || rate < 1000 || rate > 192_000 || (bits != 8 && bits != 16 && bits != 24
            && bits != 32) || block != channels * bits / 8) {
          throw ApiError.badRequest(which + " declares " + channels + " channels, " + rate + " Hz, " + bits
              + " bits, " + block + "-byte frames: expected 1 to 8 channels, 1 to 192 kHz, 8, 16, 24 or 32 bits");
        }
        long bytes = Math.min(size, b.length - body);
        long perSecond = rate * block;
        return new WavHeader(channels, (int) rate, bits, (bytes * 1000 + perSecond - 1) / perSecond);
      }
      at = (int) Math.min(b.length, body + size + (size & 1)); // a chunk claiming more than the file ends the walk
    }
    throw ApiError.badRequest(which + " is a truncated or malformed WAV: no data chunk within its first " + MAX_CHUNKS
        + " chunks");
  }

  private static long u32(byte[] b, int at) {
    return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8 | (b[at + 2] & 0xff) << 16 | (long) (b[at + 3] & 0xff) << 24;
  }

  private static int u16(byte[] b, int at) {
    return (b[at] & 0xff) | (b[at + 1] & 0xff) << 8;
  }
}
