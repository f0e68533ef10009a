package io.inferium.engine.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.scoring.eval.EvalDataset;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.Base64;
import javax.imageio.ImageIO;
import javax.sound.sampled.AudioFileFormat;
import javax.sound.sampled.AudioFormat;
import javax.sound.sampled.AudioInputStream;
import javax.sound.sampled.AudioSystem;
import org.junit.jupiter.api.Test;

class MediaRowsTest {

  static String png(int w, int h) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertTrue(ImageIO.write(new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB), "png", out));
    return Base64.getEncoder().encodeToString(out.toByteArray());
  }

  static String wav(int frames) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    AudioSystem.write(new AudioInputStream(new ByteArrayInputStream(new byte[frames]), new AudioFormat(1000, 8, 1, false, false),
        frames), AudioFileFormat.Type.WAVE, out);
    return Base64.getEncoder().encodeToString(out.toByteArray());
  }

  static ApiError refused(String jsonl) {
    return assertThrows(ApiError.class, () -> MediaRows.checked(EvalDataset.parse("jsonl", jsonl), MediaUpload.Bounds.DEFAULT));
  }

  @Test
  void mediaRowsAreCheckedLikePredictFilesAndClipsCarryTheirDuration() throws Exception {
    EvalDataset numbers = EvalDataset.parse("jsonl", "{\"input\": [1, 2], \"expected\": 0}");
    assertSame(numbers, MediaRows.checked(numbers, MediaUpload.Bounds.DEFAULT), "no media rows: untouched");
    EvalDataset clips = MediaRows.checked(EvalDataset.parse("jsonl", "{\"audio\": \"" + wav(1500) + "\", \"expected\": \"low\"}"),
        MediaUpload.Bounds.DEFAULT);
    assertEquals(1500L, clips.rows().get(0).getLong("millis"));
    assertEquals(1, MediaRows.checked(EvalDataset.parse("jsonl", "{\"image\": \"" + png(4, 4) + "\", \"expected\": \"x\"}"),
        MediaUpload.Bounds.DEFAULT).size());
  }

  @Test
  void badRowsAreRefusedNamingTheRowAndTheBound() throws Exception {
    String ok = "{\"image\": \"" + png(4, 4) + "\", \"expected\": \"x\"}\n";
    ApiError mixed = refused(ok + "{\"audio\": \"" + wav(10) + "\", \"expected\": \"low\"}");
    assertEquals(400, mixed.status());
    assertTrue(mixed.getMessage().startsWith("row 2") && mixed.getMessage().contains("not several"), mixed.getMessage());
    ApiError notAnImage = refused(ok + "{\"image\": \"" + wav(10) + "\", \"expected\": \"x\", \"file\": \"a.png\"}");
    assertTrue(notAnImage.getMessage().startsWith("row 2 (file 'a.png'): the file is not a PNG, JPEG or WebP"), notAnImage.getMessage());
    ApiError tooLong = refused("{\"audio\": \"" + wav(601_000) + "\", \"expected\": \"low\"}");
    assertEquals(413, tooLong.status());
    assertTrue(tooLong.getMessage().contains("max_seconds"), tooLong.getMessage());
    assertTrue(refused("{\"image\": \"" + png(4, 4) + "\"}").getMessage().contains("no 'expected'"));
    assertTrue(refused("{\"image\": 7, \"expected\": \"x\"}").getMessage().contains("base64 string"));
    assertTrue(refused(ok + "{\"input\": [1], \"expected\": 0}").getMessage().contains("exactly one of 'image', 'audio' or 'video'"));
  }

  static String row(byte[] mp4) {
    return "{\"video\": \"" + Base64.getEncoder().encodeToString(mp4) + "\", \"expected\": \"circle\"}\n";
  }

  @Test
  void videoRowsPassTheBoxHeaderChecksCarryTheirDurationAndTheSetIsBounded() throws Exception {
    byte[] mp4 = io.inferium.engine.ShapeVideos.mp4(4, 32, java.util.List.of(0, 0, 1, 1, 2, 2), 1);
    EvalDataset ok = MediaRows.checked(EvalDataset.parse("jsonl", row(mp4)), MediaUpload.Bounds.DEFAULT);
    assertEquals(1500L, ok.rows().get(0).getLong("millis"), "6 frames at 4 fps");
    ApiError truncated = refused(row(mp4) + row(java.util.Arrays.copyOf(mp4, mp4.length / 2)));
    assertEquals(400, truncated.status());
    assertTrue(truncated.getMessage().startsWith("row 2: the file is a truncated or malformed MP4"), truncated.getMessage());
    ApiError codec = refused(row(io.inferium.engine.ShapeVideos.withCodec(mp4, "hvc1")));
    assertEquals(415, codec.status());
    assertTrue(codec.getMessage().startsWith("row 1: the file's video is 'hvc1'"), codec.getMessage());
    ApiError tooLong = refused(row(io.inferium.engine.ShapeVideos.declaringSeconds(mp4, 601)));
    assertEquals(413, tooLong.status());
    assertTrue(tooLong.getMessage().contains("max_video_seconds"), tooLong.getMessage());
    String tenMinutes = row(io.inferium.engine.ShapeVideos.declaringSeconds(mp4, 600));
    ApiError hours = refused(tenMinutes.repeat(7));
    assertEquals(413, hours.status());
    assertTrue(hours.getMessage().startsWith("row 7") && hours.getMessage().contains("max_set_seconds"), hours.getMessage());
    ApiError many = refused(row(mp4).repeat(io.inferium.scoring.eval.MediaArchive.MAX_VIDEOS + 1));
    assertEquals(413, many.status());
    assertTrue(many.getMessage().contains("max_videos"), many.getMessage());
    ApiError mixed = refused(row(mp4) + "{\"image\": \"" + png(4, 4) + "\", \"expected\": \"x\"}");
    assertTrue(mixed.getMessage().contains("has 'image' where row 1 has 'video'"), mixed.getMessage());
    ApiError notMp4 = refused("{\"video\": \"" + png(4, 4) + "\", \"expected\": \"x\", \"file\": \"a.mp4\"}");
    assertEquals(400, notMp4.status());
    assertTrue(notMp4.getMessage().startsWith("row 1 (file 'a.mp4'): the file is not an MP4"), notMp4.getMessage());
  }
}
