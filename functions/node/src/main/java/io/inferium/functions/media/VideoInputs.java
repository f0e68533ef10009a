package io.inferium.functions.media;

import io.inferium.functions.ImagePreprocess;
import io.inferium.functions.VideoPreprocess;
import io.inferium.functions.runtime.Cancellation;
import io.inferium.functions.tensor.DataType;
import io.inferium.functions.tensor.Tensor;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jcodec.api.FrameGrab;
import org.jcodec.api.JCodecException;
import org.jcodec.api.PictureWithMetadata;
import org.jcodec.common.io.ByteBufferSeekableByteChannel;
import org.jcodec.common.model.Size;
import org.jcodec.scale.AWTUtil;

/**
 * Turns the encoded videos of an INFER (MP4 files with an H.264 track, one per element of a BYTES tensor) into a
 * per-frame model's input: decoded with JCodec (pure Java), frames sampled at the spec's rate, each frame
 * pre-processed like an image ({@link ImageInputs#fill}); all videos' frames become one batch
 * {@code [frames, ...]}. Bounded: the frame size is read from the stream before a picture is decoded, decoding
 * stops after the last sampled frame's time, after {@link #MAX_DECODED_FRAMES} decoded frames, or at a deadline.
 * After the model ran, {@link Frames#regroup} puts its rows back per video.
 */
public final class VideoInputs {

  /** Most frames decoded from one video (sampled or not), whatever its rate. */
  public static final int MAX_DECODED_FRAMES = 20_000;

  private VideoInputs() {}

  /**
   * The model's input and which sampled frame each of its rows is.
   *
   * @param input the frames of every video, in order: {@code [sum of frames, ...]}
   * @param slots per video, the sample index (time = index / fps) of each of its rows
   */
  public record Frames(Tensor input, int[][] slots, int maxFrames) {

    /**
     * The model's outputs per video: each numeric output {@code [rows, ...]} becomes {@code [videos, maxFrames, ...]}
     * (rows past a video's frame count are zeros), followed by INT32 {@code frame_index [videos, maxFrames]}: the
     * sample index of each row, -1 where there is none. So the batch splits per request on dimension 0 like any other.
     */
    public List<Tensor> regroup(List<Tensor> outputs) throws MediaException {
      int rows = Arrays.stream(slots).mapToInt(s -> s.length).sum();
      List<Tensor> out = new ArrayList<>(outputs.size() + 1);
      for (Tensor t : outputs) {
        if (!t.type().isFixedWidth() || t.shape().length == 0 || t.shape()[0] != rows) {
          throw new MediaException("output '" + t.name() + "' is " + t.type() + Arrays.toString(t.shape())
              + ": a video function's model must answer one numeric row per frame (" + rows + ")", false);
        }
        int rowBytes = t.byteSize() / Math.max(1, rows);
        long[] shape = new long[t.shape().length + 1];
        shape[0] = slots.length;
        shape[1] = maxFrames;
        System.arraycopy(t.shape(), 1, shape, 2, t.shape().length - 1);
        ByteBuffer data = ByteBuffer.allocate(Math.multiplyExact(Math.multiplyExact(slots.length, maxFrames), rowBytes))
            .order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer src = t.view();
        int row = 0;
        for (int v = 0; v < slots.length; v++) {
          for (int f = 0; f < slots[v].length; f++, row++) {
            data.put((v * maxFrames + f) * rowBytes, src, row * rowBytes, rowBytes);
          }
        }
        out.add(new Tensor(t.name(), t.type(), shape, data));
      }
      ByteBuffer index = ByteBuffer.allocate(slots.length * maxFrames * 4).order(ByteOrder.LITTLE_ENDIAN);
      for (int[] video : slots) {
        for (int f = 0; f < maxFrames; f++) {
          index.putInt(f < video.length ? video[f] : -1);
        }
      }
      out.add(new Tensor("frame_index", DataType.INT32, new long[] {slots.length, maxFrames}, index.flip()));
      return out;
    }
  }

  /** Decodes and pre-processes every video's sampled frames; the deadline counts from now. */
  public static Frames tensor(ImagePreprocess p, VideoPreprocess v, List<byte[]> videos, Cancellation cancellation)
      throws MediaException {
    long deadline = System.nanoTime() + VideoPreprocess.MAX_DECODE_SECONDS * 1_000_000_000L;
    int perImage = Math.multiplyExact(Math.multiplyExact(p.width(), p.height()), p.channels().count());
    List<float[]> frames = new ArrayList<>();
    int[][] slots = new int[videos.size()][];
    for (int i = 0; i < videos.size(); i++) {
      List<float[]> sampled = new ArrayList<>();
      slots[i] = decode(videos.get(i), i, p, v, perImage, sampled, cancellation, deadline);
      frames.addAll(sampled);
      // A batch of many callers' videos is bounded as a whole: over it, the mempool re-runs each request alone.
      if ((long) frames.size() * perImage > VideoPreprocess.MAX_VALUES_PER_INFER) {
        throw new MediaException("videos 0 to " + i + " make " + frames.size() + " frames of " + perImage + " values, more than "
            + VideoPreprocess.MAX_VALUES_PER_INFER + " in one run (max_batch_values)", true);
      }
    }
    int elementBytes = p.dtype() == DataType.UINT8 ? 1 : 4;
    ByteBuffer data = ByteBuffer.allocate(Math.multiplyExact(Math.multiplyExact(perImage, frames.size()), elementBytes))
        .order(ByteOrder.LITTLE_ENDIAN);
    for (float[] values : frames) {
      if (p.dtype() == DataType.UINT8) {
        for (float x : values) {
          data.put((byte) Math.round(x));
        }
      } else {
        for (float x : values) {
          data.putFloat(x);
        }
      }
    }
    return new Frames(new Tensor(p.input(), p.dtype(), p.shape(frames.size()), data.flip()), slots, v.maxFrames());
  }

  /**
   * Decodes one video until its last sample time, adding each sampled frame's pre-processed values to {@code out};
   * a sample takes the frame shown at its time (the frame whose interval [timestamp, timestamp + duration) holds it).
   *
   * @return the sample index of each frame added
   */
  static int[] decode(byte[] bytes, int index, ImagePreprocess p, VideoPreprocess v, int perImage, List<float[]> out,
      Cancellation cancellation, long deadline) throws MediaException {
    String which = "video " + index;
    float[][] slots = new float[v.maxFrames()][];
    try {
      FrameGrab grab = FrameGrab.createFrameGrab(new ByteBufferSeekableByteChannel(ByteBuffer.wrap(bytes), bytes.length));
      Size dim = grab.getMediaInfo() == null ? null : grab.getMediaInfo().getDim();
      if (dim == null || dim.getWidth() < 1 || dim.getHeight() < 1) {
        throw new MediaException(which + " has no readable H.264 frame size", false);
      }
      long pixels = (long) dim.getWidth() * dim.getHeight();
      if (pixels > ImagePreprocess.MAX_SOURCE_PIXELS) {
        throw new MediaException(which + " is " + dim.getWidth() + " × " + dim.getHeight() + " = " + pixels
            + " pixels a frame, more than the limit of " + ImagePreprocess.MAX_SOURCE_PIXELS + " (max_pixels)", true);
      }
      double last = v.time(v.maxFrames() - 1);
      for (int decoded = 0; decoded < MAX_DECODED_FRAMES; decoded++) {
        if (cancellation != null && cancellation.cancelled()) {
          throw new MediaException("cancelled", false);
        }
        if (System.nanoTime() - deadline > 0) {
          throw new MediaException(which + ": decoding took more than " + VideoPreprocess.MAX_DECODE_SECONDS
              + " s (max_decode_seconds)", true);
        }
        PictureWithMetadata frame = grab.getNativeFrameWithMetadata();
        if (frame == null || frame.getPicture() == null) {
          break;
        }
        double ts = frame.getTimestamp();
        double duration = frame.getDuration() > 0 ? frame.getDuration() : 1 / v.fps();
        if (!Double.isFinite(ts) || ts > last + 1) {
          break; // past the last sample (allowing for frames decoded ahead of their display time)
        }
        int first = (int) Math.max(0, Math.ceil(ts * v.fps() - 1e-9));
        float[] values = null;
        for (int s = first; s < v.maxFrames() && v.time(s) < ts + duration; s++) {
          if (values == null) {
            values = preprocess(frame, p, perImage, which);
          }
          slots[s] = values;
        }
      }
    } catch (MediaException e) {
      throw e;
    } catch (IOException | JCodecException | RuntimeException | StackOverflowError e) {
      throw new MediaException(which + " could not be decoded as MP4/H.264: " + e, false);
    } catch (OutOfMemoryError e) {
      throw new MediaException(which + " is too large to decode in this worker's memory", true);
    }
    List<Integer> taken = new ArrayList<>();
    for (int s = 0; s < slots.length; s++) {
      if (slots[s] != null) {
        out.add(slots[s]);
        taken.add(s);
      }
    }
    if (taken.isEmpty()) {
      throw new MediaException(which + " has no decodable frame", false);
    }
    return taken.stream().mapToInt(Integer::intValue).toArray();
  }

  private static float[] preprocess(PictureWithMetadata frame, ImagePreprocess p, int perImage, String which)
      throws MediaException {
    BufferedImage img = AWTUtil.toBufferedImage(frame.getPicture());
    int w = img.getWidth();
    int h = img.getHeight();
    if ((long) w * h > ImagePreprocess.MAX_SOURCE_PIXELS) {
      throw new MediaException(which + " has a " + w + " × " + h + " frame, more than the limit of "
          + ImagePreprocess.MAX_SOURCE_PIXELS + " pixels (max_pixels)", true);
    }
    float[] values = new float[perImage];
    ImageInputs.fill(p, new ImageDecoder.Pixels(w, h, img.getRGB(0, 0, w, h, null, 0, w)), values);
    return values;
  }
}
