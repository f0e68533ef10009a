package io.inferium.scoring.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;

class MediaArchiveTest {

  static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3};
  static final byte[] WAV = "RIFF\0\0\0\0WAVEfmt ".getBytes(StandardCharsets.ISO_8859_1);

  static String zip(Map<String, byte[]> files) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ZipOutputStream z = new ZipOutputStream(out)) {
      for (Map.Entry<String, byte[]> e : files.entrySet()) {
        z.putNextEntry(new ZipEntry(e.getKey()));
        z.write(e.getValue());
        z.closeEntry();
      }
    }
    return Base64.getEncoder().encodeToString(out.toByteArray());
  }

  static Map<String, byte[]> files(Object... nameThenBytes) {
    Map<String, byte[]> m = new LinkedHashMap<>();
    for (int i = 0; i < nameThenBytes.length; i += 2) {
      Object v = nameThenBytes[i + 1];
      m.put((String) nameThenBytes[i], v instanceof String s ? s.getBytes(StandardCharsets.UTF_8) : (byte[]) v);
    }
    return m;
  }

  static String error(Map<String, byte[]> files) {
    return assertThrows(IllegalArgumentException.class, () -> EvalDataset.parse("zip", zip(files))).getMessage();
  }

  @Test
  void rowsFollowTheLabelsFileAndCarryEachFileInBase64() throws Exception {
    EvalDataset set = EvalDataset.parse("zip", zip(files("set/b.png", PNG, "set/a.png", PNG, "set/labels.csv",
        "file,label\na.png,circle\n\"set/b.png\",square\n")));
    assertEquals(2, set.size());
    JsonObject first = set.rows().get(0);
    assertEquals("a.png", first.getString("file"));
    assertEquals("circle", first.getValue("expected"));
    assertArrayEquals(PNG, Base64.getDecoder().decode(first.getString("image")));
    assertEquals("square", set.rows().get(1).getValue("expected"));
    assertEquals(List.of(0, 1), List.of(set.expectedClasses(List.of("circle", "square")).clone()[0],
        set.expectedClasses(List.of("circle", "square"))[1]));
    EvalDataset clips = EvalDataset.parse("zip", zip(files("labels.csv", "file,expected\nx.wav,low\n", "x.wav", WAV)));
    assertTrue(clips.rows().get(0).containsKey("audio"));
  }

  @Test
  void badSetsAreRefusedNamingTheFileOrTheBound() throws Exception {
    assertTrue(error(files("a.png", PNG)).contains("no labels.csv"));
    assertTrue(error(files("a.png", PNG, "b.png", PNG, "labels.csv", "file,label\na.png,circle\n"))
        .contains("'b.png' has no row"));
    assertTrue(error(files("labels.csv", "file,label\nc.png,circle\n")).contains("'c.png' is not in the zip"));
    assertTrue(error(files("a.png", PNG, "x.wav", WAV, "labels.csv", "file,label\na.png,circle\nx.wav,low\n"))
        .contains("not both"));
    assertTrue(error(files("a.txt", "hello", "labels.csv", "file,label\na.txt,circle\n")).contains("neither a PNG"));
    // A bomb: 5 MiB of zeros deflate to a few KiB, and inflating stops at the per-file bound.
    assertTrue(error(files("a.png", new byte[5 << 20], "labels.csv", "file,label\na.png,x\n")).contains("max_file_bytes"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> EvalDataset.parse("zip", "not base64 at all!"))
        .getMessage().contains("not a zip"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> EvalDataset.parse("zip",
        Base64.getEncoder().encodeToString("just text".getBytes()))).getMessage().contains("zip"));
  }
}
