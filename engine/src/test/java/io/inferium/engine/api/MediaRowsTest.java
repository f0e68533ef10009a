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
    assertTrue(mixed.getMessage().startsWith("row 2") && mixed.getMessage().contains("not both"), mixed.getMessage());
    ApiError notAnImage = refused(ok + "{\"image\": \"" + wav(10) + "\", \"expected\": \"x\", \"file\": \"a.png\"}");
    assertTrue(notAnImage.getMessage().startsWith("row 2 (file 'a.png'): the file is not a PNG, JPEG or WebP"), notAnImage.getMessage());
    ApiError tooLong = refused("{\"audio\": \"" + wav(601_000) + "\", \"expected\": \"low\"}");
    assertEquals(413, tooLong.status());
    assertTrue(tooLong.getMessage().contains("max_seconds"), tooLong.getMessage());
    assertTrue(refused("{\"image\": \"" + png(4, 4) + "\"}").getMessage().contains("no 'expected'"));
    assertTrue(refused("{\"image\": 7, \"expected\": \"x\"}").getMessage().contains("base64 string"));
    assertTrue(refused(ok + "{\"input\": [1], \"expected\": 0}").getMessage().contains("exactly one of 'image' or 'audio'"));
  }
}
