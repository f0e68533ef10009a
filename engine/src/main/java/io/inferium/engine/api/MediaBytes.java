package io.inferium.engine.api;

/** Reading the headers of untrusted media files at the gateway ({@link WavHeader}, {@link Mp4Header}): never past the end. */
final class MediaBytes {

  private MediaBytes() {}

  /** Whether the ASCII tag {@code t} (a RIFF chunk id, an MP4 box type) stands at {@code at}; false past the end. */
  static boolean tag(byte[] b, int at, String t) {
    for (int i = 0; i < t.length(); i++) {
      if (at + i >= b.length || b[at + i] != t.charAt(i)) {
        return false;
      }
    }
    return true;
  }
}
