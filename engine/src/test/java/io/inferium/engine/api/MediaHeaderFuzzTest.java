package io.inferium.engine.api;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Fuzzes the header readers the gateway runs on untrusted media: byte strings that start like a PNG, a JPEG, a WAV or
 * a WebP (whose RIFF and chunk sizes tell the truth or lie; and the committed WebP files, cut and with bytes changed),
 * and random bytes, either read as positive dimensions or a duration, or fail with an {@link ApiError} of 400
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

  private static final String[] WEBP_CHUNKS = {"VP8 ", "VP8L", "VP8X", "ANIM", "ALPH"};

  private static final String[] WEBP_FILES = {"lossy.webp", "lossless.webp", "extended.webp", "animated.webp"};

  /** RIFF/WEBP, a chunk tag and random data, each size field either exact or random. */
  @Provide
  Arbitrary<byte[]> webps() {
    Arbitrary<byte[]> made = Arbitraries.of(WEBP_CHUNKS).flatMap(tag -> Arbitraries.bytes().array(byte[].class).ofMaxSize(96)
        .flatMap(data -> Arbitraries.integers().between(-1, 200).flatMap(riffSize -> Arbitraries.integers().between(-1, 200)
            .map(chunkSize -> {
              byte[] out = new byte[20 + data.length];
              System.arraycopy("RIFF".getBytes(), 0, out, 0, 4);
              le(out, 4, riffSize < 0 ? out.length - 8 : riffSize);
              System.arraycopy(("WEBP" + tag).getBytes(), 0, out, 8, 8);
              le(out, 16, chunkSize < 0 ? data.length : chunkSize);
              System.arraycopy(data, 0, out, 20, data.length);
              return out;
            }))));
    Arbitrary<byte[]> mutated = Arbitraries.of(WEBP_FILES).flatMap(name -> Arbitraries.integers().between(12, 64)
        .flatMap(at -> Arbitraries.bytes().flatMap(value -> Arbitraries.integers().between(13, 2100).map(length -> {
          byte[] file = file(name);
          file[Math.min(at, file.length - 1)] = value;
          return java.util.Arrays.copyOf(file, Math.min(length, file.length));
        }))));
    return Arbitraries.oneOf(made, mutated);
  }

  private static void le(byte[] b, int at, int v) {
    for (int i = 0; i < 4; i++) {
      b[at + i] = (byte) (v >>> (8 * i));
    }
  }

  private static byte[] file(String name) {
    try {
      return Files.readAllBytes(Path.of("../functions/src/test/resources/webp", name));
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Property(tries = 3000, seed = "16")
  void webpHeadersReadOrRefuseCleanly(@ForAll("webps") byte[] bytes) {
    imageHeadersReadOrRefuseCleanly(bytes);
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
