package io.inferium.functions.media;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.AudioPreprocess;
import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.tensor.Tensors;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.List;
import javax.sound.sampled.AudioFileFormat;
import javax.sound.sampled.AudioFormat;
import javax.sound.sampled.AudioInputStream;
import javax.sound.sampled.AudioSystem;
import org.junit.jupiter.api.Test;

class AudioInputsTest {

  static byte[] wav(AudioFormat format, byte[] pcm) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    AudioSystem.write(new AudioInputStream(new ByteArrayInputStream(pcm), format, pcm.length / format.getFrameSize()),
        AudioFileFormat.Type.WAVE, out);
    return out.toByteArray();
  }

  private static AudioPreprocess spec(String json) {
    return AudioPreprocess.fromJson(new JsonObject(json)).withInput("clip");
  }

  @Test
  void stereoIsMixedOrCutToItsFirstChannelResampledAndPadded() throws Exception {
    // 16-bit little-endian stereo at 2 kHz: left 0.5, right -0.25, for 4 frames.
    byte[] pcm = new byte[4 * 4];
    java.nio.ByteBuffer b = java.nio.ByteBuffer.wrap(pcm).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < 4; i++) {
      b.putShort((short) 16384).putShort((short) -8192);
    }
    byte[] clip = wav(new AudioFormat(2000, 16, 2, true, false), pcm);
    Tensor mixed = AudioInputs.tensor(spec("{\"sample_rate\": 1000, \"seconds\": 0.004}"), List.of(clip, clip), null);
    assertArrayEquals(new long[] {2, 4}, mixed.shape());
    float[] v = Tensors.toFloatArray(mixed);
    // 1 kHz takes every other source sample: 2 of the 4 frames, then zeros to the 4 samples asked for.
    assertEquals(0.125f, v[0], 1e-6);
    assertEquals(0.125f, v[1], 1e-6);
    assertEquals(0f, v[2]);
    assertEquals(0f, v[3]);
    float[] first = Tensors.toFloatArray(AudioInputs.tensor(spec("{\"sample_rate\": 2000, \"seconds\": 0.002, \"mono\": \"first\"}"),
        List.of(clip), null));
    assertArrayEquals(new float[] {0.5f, 0.5f, 0.5f, 0.5f}, first);
  }

  @Test
  void eightBitUnsignedAndLinearInterpolation() throws Exception {
    byte[] clip = wav(new AudioFormat(1000, 8, 1, false, false), new byte[] {(byte) 128, (byte) 192});
    float[] v = Tensors.toFloatArray(AudioInputs.tensor(spec("{\"sample_rate\": 2000, \"seconds\": 0.002}"), List.of(clip), null));
    assertArrayEquals(new float[] {0f, 0.25f, 0.5f, 0.25f}, v, 1e-6f, "halfway points interpolate, the last towards silence");
  }

  @Test
  void brokenAndForeignFilesAreRefused() throws Exception {
    AudioPreprocess p = spec("{\"sample_rate\": 1000, \"seconds\": 1}");
    byte[] clip = wav(new AudioFormat(1000, 16, 1, true, false), new byte[200]);
    MediaException truncated = assertThrows(MediaException.class, () -> AudioInputs.tensor(p, List.of(Arrays.copyOf(clip, 30)), null));
    assertTrue(truncated.getMessage().startsWith("clip 0 "), truncated.getMessage());
    assertThrows(MediaException.class, () -> AudioInputs.tensor(p, List.of("not a wav".getBytes()), null));
    assertThrows(MediaException.class, () -> AudioInputs.tensor(p, List.of(new byte[0]), null));
  }
}
