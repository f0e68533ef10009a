package io.inferium.engine.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.engine.ShapeVideos;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * The gateway's MP4 box walk on a real file from JCodec's encoder, its mutations, and fuzzed bytes: a duration, size
 * and codec, or an {@link ApiError} of 400 or 415 — never another exception.
 */
class Mp4HeaderTest {

  private static final byte[] VIDEO;

  static {
    try {
      VIDEO = ShapeVideos.mp4(4, 64, Collections.nCopies(12, 0), 1);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void aRealMp4DeclaresItsDurationSizeAndCodec() {
    Mp4Header h = Mp4Header.read(VIDEO, 0);
    assertEquals(64, h.width());
    assertEquals(64, h.height());
    assertEquals("avc1", h.codec());
    assertEquals(3000, h.millis(), "12 frames at 4 fps");
    assertEquals(601_000, Mp4Header.read(ShapeVideos.declaringSeconds(VIDEO, 601), 0).millis());
    assertEquals(8192L * 8192, Mp4Header.read(ShapeVideos.declaringSize(VIDEO, 8192, 8192), 0).pixels());
  }

  @Test
  void foreignBrokenAndOtherCodecsAreRefusedNamingWhy() {
    assertEquals(415, assertThrows(ApiError.class, () -> Mp4Header.read(ShapeVideos.withCodec(VIDEO, "hvc1"), 2)).status());
    ApiError cut = assertThrows(ApiError.class, () -> Mp4Header.read(Arrays.copyOf(VIDEO, VIDEO.length / 2), 1));
    assertEquals(400, cut.status());
    assertTrue(cut.getMessage().startsWith("video 1"), cut.getMessage());
    assertEquals(415, assertThrows(ApiError.class, () -> Mp4Header.read(new byte[] {0x1a, 0x45, (byte) 0xdf, (byte) 0xa3}, 0)).status());
    assertEquals(415, assertThrows(ApiError.class, () -> Mp4Header.read("RIFF\0\0\0\0AVI LIST".getBytes(), 0)).status());
    assertEquals(400, assertThrows(ApiError.class, () -> Mp4Header.read("hello".getBytes(), 0)).status());
    assertEquals(400, assertThrows(ApiError.class, () -> Mp4Header.read(ShapeVideos.declaringSeconds(VIDEO, 0), 0)).status());
  }

  @Property(tries = 2000, seed = "16")
  void mutatedMp4sReadOrRefuseCleanly(@ForAll @IntRange(min = 0, max = 2000) int at, @ForAll byte value,
      @ForAll @IntRange(min = 0, max = 3) int cut) {
    byte[] b = VIDEO.clone();
    int pos = b.length - 1 - at % b.length; // the boxes that matter (moov) are at the end of JCodec's files
    b[pos] = value;
    List<byte[]> forms = List.of(b, Arrays.copyOf(b, Math.max(0, b.length - cut * 200)));
    for (byte[] form : forms) {
      try {
        Mp4Header h = Mp4Header.read(form, 0);
        assertTrue(h.millis() > 0 && h.width() > 0 && h.height() > 0, h.toString());
      } catch (ApiError e) {
        assertTrue(e.status() == 400 || e.status() == 415, e.status() + " " + e.getMessage());
      }
    }
  }
}
