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
  static final byte[] MP4 = "\0\0\0\u0018ftypisom\0\0\u0002\0isomiso2".getBytes(StandardCharsets.ISO_8859_1);

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
    // A WebP is an image (RIFF....WEBP); its chunks are checked with the row's header, at the gateway.
    byte[] webp = "RIFF\0\0\0\0WEBPVP8L".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    EvalDataset webps = EvalDataset.parse("zip", zip(files("labels.csv", "file,label\nw.webp,circle\n", "w.webp", webp)));
    assertTrue(webps.rows().get(0).containsKey("image"), webps.rows().toString());
  }

  @Test
  void badSetsAreRefusedNamingTheFileOrTheBound() throws Exception {
    assertTrue(error(files("a.png", PNG)).contains("no labels.csv"));
    assertTrue(error(files("a.png", PNG, "b.png", PNG, "labels.csv", "file,label\na.png,circle\n"))
        .contains("'b.png' has no row"));
    assertTrue(error(files("labels.csv", "file,label\nc.png,circle\n")).contains("'c.png' is not in the zip"));
    assertTrue(error(files("a.png", PNG, "x.wav", WAV, "labels.csv", "file,label\na.png,circle\nx.wav,low\n"))
        .contains("not several"));
    assertTrue(error(files("a.txt", "hello", "labels.csv", "file,label\na.txt,circle\n"))
        .contains("'a.txt' is not a PNG, JPEG or WebP image, a WAV clip or an MP4 video"));
    // A bomb: 5 MiB of zeros deflate to a few KiB, and inflating stops at the per-file bound.
    assertTrue(error(files("a.png", new byte[5 << 20], "labels.csv", "file,label\na.png,x\n")).contains("max_file_bytes"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> EvalDataset.parse("zip", "not base64 at all!"))
        .getMessage().contains("not a zip"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> EvalDataset.parse("zip",
        Base64.getEncoder().encodeToString("just text".getBytes()))).getMessage().contains("zip"));
  }

  @Test
  void videoSetsCarryMp4sAndRefuseOtherEntriesBombsLyingSizesAndTooManyVideos() throws Exception {
    EvalDataset set = EvalDataset.parse("zip", zip(files("v/a.mp4", MP4, "v/labels.csv", "file,label\na.mp4,circle\n")));
    assertArrayEquals(MP4, Base64.getDecoder().decode(set.rows().get(0).getString("video")));
    String mixed = error(files("a.mp4", MP4, "b.png", PNG, "labels.csv", "file,label\na.mp4,circle\nb.png,square\n"));
    assertTrue(mixed.contains("'b.png' is an image and file 'a.mp4' a video") && mixed.contains("not several"), mixed);
    assertTrue(error(files("a.mp4", MP4, "b.mp4", "#!/bin/sh", "labels.csv", "file,label\na.mp4,x\nb.mp4,y\n"))
        .contains("'b.mp4' is not a PNG, JPEG or WebP image, a WAV clip or an MP4 video"));
    byte[] webm = {0x1a, 0x45, (byte) 0xdf, (byte) 0xa3, 1, 2, 3, 4};
    assertTrue(error(files("a.webm", webm, "labels.csv", "file,label\na.webm,x\n")).contains("WebM and AVI are not supported"));
    // A bomb behind an MP4's first bytes: inflating stops at the per-file bound, whatever the entry claims.
    byte[] bomb = java.util.Arrays.copyOf(MP4, 5 << 20);
    assertTrue(error(files("a.mp4", bomb, "labels.csv", "file,label\na.mp4,x\n")).contains("max_file_bytes"));
    // An entry whose recorded size lies (its data descriptor says 3 bytes): refused as a broken zip, not believed.
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (ZipOutputStream z = new ZipOutputStream(out)) {
      z.putNextEntry(new ZipEntry("a.mp4"));
      z.write(MP4);
      z.closeEntry();
      z.putNextEntry(new ZipEntry("labels.csv"));
      z.write("file,label\na.mp4,x\n".getBytes(StandardCharsets.UTF_8));
      z.closeEntry();
    }
    byte[] zip = out.toByteArray();
    int descriptor = -1;
    for (int i = 0; i + 4 <= zip.length && descriptor < 0; i++) {
      if (zip[i] == 0x50 && zip[i + 1] == 0x4b && zip[i + 2] == 0x07 && zip[i + 3] == 0x08) {
        descriptor = i;
      }
    }
    assertTrue(descriptor > 0, "the deflated entry has a data descriptor");
    java.nio.ByteBuffer.wrap(zip).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(descriptor + 12, 3);
    String lying = assertThrows(IllegalArgumentException.class, () -> EvalDataset.parse("zip",
        Base64.getEncoder().encodeToString(zip))).getMessage();
    assertTrue(lying.contains("not a valid zip") && lying.contains("size"), lying);
    Map<String, byte[]> many = new LinkedHashMap<>();
    StringBuilder csv = new StringBuilder("file,label\n");
    for (int i = 0; i <= MediaArchive.MAX_VIDEOS; i++) {
      many.put("v" + i + ".mp4", MP4);
      csv.append("v").append(i).append(".mp4,x\n");
    }
    many.put("labels.csv", csv.toString().getBytes(StandardCharsets.UTF_8));
    assertTrue(error(many).contains("more than " + MediaArchive.MAX_VIDEOS + " videos (max_videos)"));
  }
}
