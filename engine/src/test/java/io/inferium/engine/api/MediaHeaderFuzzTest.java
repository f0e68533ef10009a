package io.inferium.engine.api;

import static org.junit.jupiter.api.Assertions.assertTrue;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Fuzzes the header readers the gateway runs on untrusted media: byte strings that start like a PNG, a JPEG or a
 * WAV (and random bytes) either read as positive dimensions or a duration, or fail with an {@link ApiError} of 400
 * or 415 — never another exception, whatever lengths, offsets and chunk sizes they claim.
 */
class MediaHeaderFuzzTest {

  private static final byte[][] PREFIXES = {
      {(byte) 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 'I', 'H', 'D', 'R'},
      {(byte) 0xff, (byte) 0xd8, (byte) 0xff},
      {(byte) 0xff, (byte) 0xd8, (byte) 0xff, (byte) 0xc0},
      {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'A', 'V', 'E', 'f', 'm', 't', ' ', 16, 0, 0, 0, 1, 0},
      {'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'A', 'V', 'E', 'd', 'a', 't', 'a'},
      {},
  };

  @Provide
  Arbitrary<byte[]> headers() {
    return Arbitraries.integers().between(0, PREFIXES.length - 1).flatMap(p -> Arbitraries.bytes().array(byte[].class)
        .ofMaxSize(96).map(tail -> {
          byte[] out = new byte[PREFIXES[p].length + tail.length];
          System.arraycopy(PREFIXES[p], 0, out, 0, PREFIXES[p].length);
          System.arraycopy(tail, 0, out, PREFIXES[p].length, tail.length);
          return out;
        }));
  }

  @Property(tries = 3000, seed = "16")
  void imageHeadersReadOrRefuseCleanly(@ForAll("headers") byte[] bytes) {
    try {
      ImageHeader h = ImageHeader.read(bytes, 0);
      assertTrue(h.width() > 0 && h.height() > 0, h.toString());
    } catch (ApiError e) {
      assertTrue(e.status() == 400 || e.status() == 415, e.status() + " " + e.getMessage());
    }
  }

  @Property(tries = 3000, seed = "16")
  void wavHeadersReadOrRefuseCleanly(@ForAll("headers") byte[] bytes) {
    try {
      WavHeader h = WavHeader.read(bytes, 0);
      assertTrue(h.millis() >= 0 && h.channels() > 0 && h.sampleRate() > 0, h.toString());
    } catch (ApiError e) {
      assertTrue(e.status() == 400 || e.status() == 415, e.status() + " " + e.getMessage());
    }
  }
}
