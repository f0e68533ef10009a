package io.inferium.scoring.eval;

import io.vertx.core.json.JsonObject;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipInputStream;

/**
 * A labelled media set uploaded as a zip (format {@code zip}, the content in base64): PNG/JPEG/WebP images, WAV clips or
 * MP4 videos, and {@code labels.csv} with a header naming a {@code file} column and a {@code label} (or
 * {@code expected}) column, one row per file. Each file becomes one row
 * {@code {"file", "image" | "audio" | "video": <base64>, "expected"}} in the order of {@code labels.csv}. Bounded
 * while it inflates, so a zip bomb stops at the limit: at most {@link #MAX_FILES} files ({@link #MAX_VIDEOS} videos),
 * {@link #MAX_FILE_BYTES} each and {@link #MAX_TOTAL_BYTES} in all, counted as the bytes inflate (an entry's declared
 * size is not trusted); one kind of media per set; every file labelled and every label's file present. Only the file
 * names and magic bytes are looked at here; the gateway checks each file's header and a worker decodes it.
 */
public final class MediaArchive {

  /** Most files a set may hold. */
  public static final int MAX_FILES = 2_000;
  /** Most bytes one file may hold once inflated. */
  public static final long MAX_FILE_BYTES = 4L << 20;
  /** Most bytes all the files may hold once inflated. */
  public static final long MAX_TOTAL_BYTES = 16L << 20;
  /**
   * Most videos a set may hold: a benchmark run decodes every one in a worker (up to the function's {@code max_frames}
   * each), so a video set is held to fewer files than an image set.
   */
  public static final int MAX_VIDEOS = 200;

  private static final String LABELS = "labels.csv";

  private MediaArchive() {}

  /**
   * The rows of the zip whose base64 is {@code content}.
   *
   * @throws IllegalArgumentException naming the file or the labels line that is wrong, or the bound exceeded
   */
  public static List<JsonObject> rows(String content) {
    byte[] zip;
    try {
      zip = Base64.getMimeDecoder().decode(content.startsWith("data:") ? content.substring(content.indexOf(',') + 1) : content);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("field 'content': a zip set is sent in base64: " + e.getMessage());
    }
    Map<String, byte[]> files = new LinkedHashMap<>();
    byte[] labels = null;
    long total = 0;
    try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
      for (ZipEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
        String name = e.getName();
        if (e.isDirectory() || name.startsWith("__MACOSX/") || base(name).startsWith(".")) {
          continue;
        }
        if (files.size() >= MAX_FILES) {
          throw new IllegalArgumentException("the zip has more than " + MAX_FILES + " files (max_files)");
        }
        byte[] bytes = read(in, name, MAX_TOTAL_BYTES - total);
        total += bytes.length;
        if (base(name).equals(LABELS)) {
          labels = bytes;
        } else if (files.put(name, bytes) != null) {
          throw new IllegalArgumentException("file '" + name + "' is in the zip twice");
        }
      }
    } catch (ZipException e) {
      throw new IllegalArgumentException("field 'content': not a valid zip: " + e.getMessage());
    } catch (IOException e) {
      throw new IllegalArgumentException("field 'content': not a valid zip: " + e.getMessage());
    }
    if (files.isEmpty() && labels == null) {
      throw new IllegalArgumentException("field 'content': the zip is empty or not a zip");
    }
    if (labels == null) {
      throw new IllegalArgumentException("the zip has no " + LABELS + " (a header with 'file' and 'label', a row per file)");
    }
    return labelled(files, new String(labels, StandardCharsets.UTF_8));
  }

  private static List<JsonObject> labelled(Map<String, byte[]> files, String csv) {
    EvalDataset table = EvalDataset.table(csv, LABELS);
    List<JsonObject> rows = new ArrayList<>();
    Set<String> used = new HashSet<>();
    String kind = null;
    for (int i = 0; i < table.size(); i++) {
      JsonObject line = table.rows().get(i);
      String where = LABELS + " row " + (i + 1);
      String file = line.getString("file");
      Object label = line.getValue("label") != null ? line.getValue("label") : line.getValue("expected");
      if (file == null || file.isBlank() || label == null || label.toString().isBlank()) {
        throw new IllegalArgumentException(where + ": expected a file name and a label");
      }
      byte[] bytes = find(files, file);
      if (bytes == null) {
        throw new IllegalArgumentException(where + ": file '" + file + "' is not in the zip");
      }
      if (!used.add(file)) {
        throw new IllegalArgumentException(where + ": file '" + file + "' is labelled twice");
      }
      String field = field(bytes, file);
      if (kind != null && !kind.equals(field)) {
        throw new IllegalArgumentException("file '" + file + "' is " + noun(field) + " and file '" + rows.get(0)
            .getString("file") + "' " + noun(kind) + ": a set holds one kind of media (images, clips or videos), not several");
      }
      kind = field;
      if (field.equals("video") && rows.size() >= MAX_VIDEOS) {
        throw new IllegalArgumentException("the zip has more than " + MAX_VIDEOS + " videos (max_videos)");
      }
      rows.add(new JsonObject().put("file", file).put(field, Base64.getEncoder().encodeToString(bytes))
          .put("expected", label));
    }
    for (String name : files.keySet()) {
      if (!used.contains(name) && !used.contains(base(name))) {
        throw new IllegalArgumentException("file '" + name + "' has no row in " + LABELS);
      }
    }
    return rows;
  }

  /** A file by its path in the zip, or by its bare name when that is unique. */
  private static byte[] find(Map<String, byte[]> files, String file) {
    byte[] exact = files.get(file);
    if (exact != null) {
      return exact;
    }
    byte[] found = null;
    for (Map.Entry<String, byte[]> e : files.entrySet()) {
      if (base(e.getKey()).equals(file)) {
        if (found != null) {
          throw new IllegalArgumentException("file '" + file + "' matches several files in the zip: give its path");
        }
        found = e.getValue();
      }
    }
    return found;
  }

  private static String noun(String field) {
    return switch (field) {
      case "audio" -> "a clip";
      case "video" -> "a video";
      default -> "an image";
    };
  }

  /** {@code image}, {@code audio} or {@code video}, by the file's magic bytes. */
  static String field(byte[] b, String file) {
    if (b.length >= 8 && (b[0] & 0xff) == 0x89 && b[1] == 'P' && b[2] == 'N' && b[3] == 'G') {
      return "image";
    }
    if (b.length >= 3 && (b[0] & 0xff) == 0xff && (b[1] & 0xff) == 0xd8 && (b[2] & 0xff) == 0xff) {
      return "image";
    }
    if (b.length >= 12 && b[0] == 'R' && b[1] == 'I' && b[2] == 'F' && b[3] == 'F' && b[8] == 'W' && b[9] == 'A'
        && b[10] == 'V' && b[11] == 'E') {
      return "audio";
    }
    if (b.length >= 12 && b[0] == 'R' && b[1] == 'I' && b[2] == 'F' && b[3] == 'F' && b[8] == 'W' && b[9] == 'E'
        && b[10] == 'B' && b[11] == 'P') {
      return "image"; // WebP: its chunks are read (and bounded) by the gateway's ImageHeader with the rest of the row
    }
    // An MP4 (ISO BMFF) begins with a box: its size, then its type (ftyp first in a file written for playback).
    if (b.length >= 8) {
      String box = new String(b, 4, 4, StandardCharsets.ISO_8859_1);
      if (List.of("ftyp", "moov", "mdat", "free", "wide", "skip").contains(box)) {
        return "video";
      }
    }
    throw new IllegalArgumentException("file '" + file + "' is not a PNG, JPEG or WebP image, a WAV clip or an MP4 video"
        + (webmOrAvi(b) ? " (WebM and AVI are not supported: send MP4 with H.264)" : ""));
  }

  private static boolean webmOrAvi(byte[] b) {
    return b.length >= 4 && (b[0] & 0xff) == 0x1a && (b[1] & 0xff) == 0x45 && (b[2] & 0xff) == 0xdf && (b[3] & 0xff) == 0xa3
        || b.length >= 12 && b[0] == 'R' && b[1] == 'I' && b[2] == 'F' && b[3] == 'F' && b[8] == 'A' && b[9] == 'V'
        && b[10] == 'I';
  }

  private static byte[] read(InputStream in, String name, long left) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[64 << 10];
    for (int n = in.read(buf); n > 0; n = in.read(buf)) {
      out.write(buf, 0, n);
      if (out.size() > MAX_FILE_BYTES) {
        throw new IllegalArgumentException("file '" + name + "' inflates to more than " + MAX_FILE_BYTES
            + " bytes (max_file_bytes)");
      }
      if (out.size() > left) {
        throw new IllegalArgumentException("the zip inflates to more than " + MAX_TOTAL_BYTES + " bytes (max_total_bytes)");
      }
    }
    return out.toByteArray();
  }

  private static String base(String path) {
    return path.substring(path.lastIndexOf('/') + 1).toLowerCase(Locale.ROOT).equals(LABELS) ? LABELS
        : path.substring(path.lastIndexOf('/') + 1);
  }
}
