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
import org.jcodec.api.specific.AVCMP4Adaptor;
import org.jcodec.api.specific.ContainerAdaptor;
import org.jcodec.common.Codec;
import org.jcodec.common.DemuxerTrack;
import org.jcodec.common.Format;
import org.jcodec.common.JCodecUtil;
import org.jcodec.common.DemuxerTrackMeta;
import org.jcodec.common.SeekableDemuxerTrack;
import org.jcodec.common.io.ByteBufferSeekableByteChannel;
import org.jcodec.common.model.Packet;
import org.jcodec.common.model.Picture;
import org.jcodec.common.model.Size;
import org.jcodec.containers.mp4.demuxer.MP4Demuxer;
import org.jcodec.scale.AWTUtil;

/**
 * Turns the encoded videos of an INFER (MP4 files with an H.264 track, one per element of a BYTES tensor) into a
 * per-frame model's input: decoded with JCodec (pure Java), frames sampled at the spec's rate, each frame
 * pre-processed like an image ({@link ImageInputs#fill}); all videos' frames become one batch
 * {@code [frames, ...]}. Seeking uses the track's IDR key frames ({@link KeyFrames}): the spec's {@code seek} says
 * whether a sample takes the frame shown at its time or the key frame before it. Bounded: the frame size is read from
 * the stream before a picture is decoded, decoding stops after the last sampled frame's time, after
 * {@link #MAX_DECODED_FRAMES} decoded frames, or at a deadline.
 * After the model ran, {@link Frames#regroup} puts its rows back per video.
 */
public final class VideoInputs {

  /** Most frames decoded from one video (sampled or not), whatever its rate. */
  public static final int MAX_DECODED_FRAMES = 20_000;

  private VideoInputs() {}

  /**
   * The model's input and which sampled frame each of its rows is.
   *
   * @param input   the frames of every video, in order: {@code [sum of frames, ...]}
   * @param sampled per video, the sample index (time = index / fps) of each of its rows and the frame it took
   */
  public record Frames(Tensor input, List<Sampled> sampled, int maxFrames) {

    /** Per video, the sample index of each of its rows. */
    public int[][] slots() {
      return sampled.stream().map(Sampled::slots).toArray(int[][]::new);
    }

    /**
     * The model's outputs per video: each numeric output {@code [rows, ...]} becomes {@code [videos, maxFrames, ...]}
     * (rows past a video's frame count are zeros), followed by INT32 {@code source_frame} and FP32 {@code source_time}
     * {@code [videos, maxFrames]} (the frame each row took: its index in decoding order and its time in seconds) and,
     * last, INT32 {@code frame_index [videos, maxFrames]}: the sample index of each row. Where a row has no frame these
     * are -1. So the batch splits per request on dimension 0 like any other.
     */
    public List<Tensor> regroup(List<Tensor> outputs) throws MediaException {
      int[][] slots = slots();
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
      long[] shape = {slots.length, maxFrames};
      ByteBuffer frame = ByteBuffer.allocate(slots.length * maxFrames * 4).order(ByteOrder.LITTLE_ENDIAN);
      ByteBuffer time = ByteBuffer.allocate(slots.length * maxFrames * 4).order(ByteOrder.LITTLE_ENDIAN);
      ByteBuffer index = ByteBuffer.allocate(slots.length * maxFrames * 4).order(ByteOrder.LITTLE_ENDIAN);
      for (Sampled video : sampled) {
        for (int f = 0; f < maxFrames; f++) {
          boolean row = f < video.slots().length;
          frame.putInt(row ? video.frames()[f] : -1);
          time.putFloat(row ? video.times()[f] : -1);
          index.putInt(row ? video.slots()[f] : -1);
        }
      }
      out.add(new Tensor("source_frame", DataType.INT32, shape, frame.flip()));
      out.add(new Tensor("source_time", DataType.FP32, shape, time.flip()));
      out.add(new Tensor("frame_index", DataType.INT32, shape, index.flip()));
      return out;
    }
  }

  /** Decodes and pre-processes every video's sampled frames; the deadline counts from now. */
  public static Frames tensor(ImagePreprocess p, VideoPreprocess v, List<byte[]> videos, Cancellation cancellation)
      throws MediaException {
    long deadline = System.nanoTime() + VideoPreprocess.MAX_DECODE_SECONDS * 1_000_000_000L;
    int perImage = Math.multiplyExact(Math.multiplyExact(p.width(), p.height()), p.channels().count());
    List<float[]> frames = new ArrayList<>();
    List<Sampled> taken = new ArrayList<>(videos.size());
    for (int i = 0; i < videos.size(); i++) {
      List<float[]> sampled = new ArrayList<>();
      taken.add(decode(videos.get(i), i, p, v, perImage, sampled, cancellation, deadline));
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
    return new Frames(new Tensor(p.input(), p.dtype(), p.shape(frames.size()), data.flip()), List.copyOf(taken), v.maxFrames());
  }

  /** Which frames a decode reads: the spec's two modes, and decoding every frame in order (tests and benchmarks). */
  enum Strategy {
    IN_ORDER, EXACT, KEYFRAME;

    static Strategy of(VideoPreprocess.Seek seek) {
      return seek == VideoPreprocess.Seek.KEYFRAME ? KEYFRAME : EXACT;
    }
  }

  /** The checks made before each packet: cancellation, the deadline, the frames decoded so far. */
  interface Budget {
    void check() throws MediaException;
  }

  /**
   * The samples one video filled: per sample taken, its index (time = index / fps), and the frame it took (index in
   * decoding order, presentation time in seconds).
   */
  record Sampled(int[] slots, int[] frames, float[] times) {}

  /** Decodes one video as its spec's {@code seek} says; see {@link #decode(byte[], int, ImagePreprocess, VideoPreprocess, Strategy, int, List, Cancellation, long)}. */
  static Sampled decode(byte[] bytes, int index, ImagePreprocess p, VideoPreprocess v, int perImage, List<float[]> out,
      Cancellation cancellation, long deadline) throws MediaException {
    return decode(bytes, index, p, v, Strategy.of(v.seek()), perImage, out, cancellation, deadline);
  }

  /**
   * Decodes one video's sampled frames, adding each one's pre-processed values to {@code out}. Exact (and in order): a
   * sample takes the frame shown at its time (the frame whose interval [timestamp, timestamp + duration) holds it);
   * exact seeks to the last IDR key frame at or before each sample still to fill and decodes from there, skipping the
   * groups of pictures no sample falls in, which gives the pictures decoding everything in order would. Keyframe: a
   * sample takes the last IDR key frame at or before its time (the first key frame for a time before it), each key frame
   * decoded once; a video with no IDR in its sync table is decoded exactly.
   */
  static Sampled decode(byte[] bytes, int index, ImagePreprocess p, VideoPreprocess v, Strategy strategy, int perImage,
      List<float[]> out, Cancellation cancellation, long deadline) throws MediaException {
    String which = "video " + index;
    float[][] slots = new float[v.maxFrames()][];
    int[] sourceFrame = new int[v.maxFrames()];
    float[] sourceTime = new float[v.maxFrames()];
    int[] decoded = {0};
    Budget budget = () -> {
      if (cancellation != null && cancellation.cancelled()) {
        throw new MediaException("cancelled", false);
      }
      if (System.nanoTime() - deadline > 0) {
        throw new MediaException(which + ": decoding took more than " + VideoPreprocess.MAX_DECODE_SECONDS
            + " s (max_decode_seconds)", true);
      }
      if (decoded[0] >= MAX_DECODED_FRAMES) {
        throw new Stop();
      }
    };
    try {
      // JCodec's FrameGrab is not used: it seeks by the sync table before anything could check it.
      if (JCodecUtil.detectFormatBuffer(ByteBuffer.wrap(bytes, 0, Math.min(bytes.length, 1 << 16)).slice()) != Format.MOV) {
        throw new MediaException(which + " is not an MP4 file", false);
      }
      DemuxerTrack any = MP4Demuxer.createMP4Demuxer(new ByteBufferSeekableByteChannel(ByteBuffer.wrap(bytes), bytes.length))
          .getVideoTrack();
      if (!(any instanceof SeekableDemuxerTrack track) || track.getMeta() == null) {
        throw new MediaException(which + " has no video track", false);
      }
      DemuxerTrackMeta meta = track.getMeta();
      if (meta.getCodec() != Codec.H264) {
        throw new MediaException(which + "'s video is " + meta.getCodec() + ", not H.264", false);
      }
      int[] sync = KeyFrames.table(meta.getSeekFrames(), meta.getTotalFrames(), which);
      ContainerAdaptor decoder = new AVCMP4Adaptor(meta);
      Size dim = decoder.getMediaInfo() == null ? null : decoder.getMediaInfo().getDim();
      if (dim == null || dim.getWidth() < 1 || dim.getHeight() < 1) {
        throw new MediaException(which + " has no readable H.264 frame size", false);
      }
      long pixels = (long) dim.getWidth() * dim.getHeight();
      if (pixels > ImagePreprocess.MAX_SOURCE_PIXELS) {
        throw new MediaException(which + " is " + dim.getWidth() + " × " + dim.getHeight() + " = " + pixels
            + " pixels a frame, more than the limit of " + ImagePreprocess.MAX_SOURCE_PIXELS + " (max_pixels)", true);
      }
      double last = v.time(v.maxFrames() - 1);
      List<KeyFrames.Key> keys = List.of();
      if (strategy != Strategy.IN_ORDER) {
        keys = KeyFrames.read(track, sync, last, MAX_DECODED_FRAMES, budget);
        track.gotoFrame(0);
      }
      Pictures pictures = new Pictures(track, decoder, p, perImage, which, budget, decoded);
      try {
        if (strategy == Strategy.KEYFRAME && !keys.isEmpty()) {
          keyframes(keys, v, meta.getTotalDuration(), pictures, slots, sourceFrame, sourceTime);
        } else {
          // In order (the worker before seeking) decodes on to the end wherever samples lie past the track's duration.
          double seconds = meta.getTotalDuration();
          double shown = strategy == Strategy.IN_ORDER || !(seconds > 0) || !Double.isFinite(seconds)
              ? Double.POSITIVE_INFINITY : seconds;
          exact(keys, v, last, shown, pictures, slots, sourceFrame, sourceTime);
        }
      } catch (Stop stop) {
        // MAX_DECODED_FRAMES decoded: the samples filled so far are the answer, as at the end of the stream
      }
    } catch (MediaException e) {
      throw e;
    } catch (IOException | RuntimeException | StackOverflowError e) {
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
    int[] at = taken.stream().mapToInt(Integer::intValue).toArray();
    int[] frames = new int[at.length];
    float[] times = new float[at.length];
    for (int i = 0; i < at.length; i++) {
      frames[i] = sourceFrame[at[i]];
      times[i] = sourceTime[at[i]];
    }
    return new Sampled(at, frames, times);
  }

  /** Thrown by a {@link Budget} when the most frames one video may decode have been decoded. */
  private static final class Stop extends RuntimeException {
    Stop() {
      super(null, null, false, false);
    }
  }

  /** Decodes packets of one track and pre-processes the pictures, counting them against the budget. */
  private record Pictures(SeekableDemuxerTrack track, ContainerAdaptor decoder, ImagePreprocess p, int perImage,
      String which, Budget budget, int[] decoded) {

    /** The next packet in decoding order, decoded; null at the end of the stream or where no picture came out. */
    Decoded next(byte[][] buffer) throws IOException, MediaException {
      budget.check();
      Packet packet = track.nextFrame();
      if (packet == null) {
        return null;
      }
      decoded[0]++;
      Picture picture = decoder.decodeFrame(packet, buffer);
      return picture == null ? null : new Decoded(picture, (int) packet.getFrameNo(), packet.getPtsD(), packet.getDurationD());
    }

    float[] values(Picture picture) throws MediaException {
      return preprocess(picture, p, perImage, which);
    }
  }

  private record Decoded(Picture picture, int frame, double time, double duration) {}

  private static void exact(List<KeyFrames.Key> keys, VideoPreprocess v, double last, double shown, Pictures pictures,
      float[][] slots, int[] sourceFrame, float[] sourceTime) throws IOException, MediaException {
    byte[][] buffer = pictures.decoder().allocatePicture();
    int s = 0;
    while (s < v.maxFrames()) {
      // The group of pictures that shows sample s runs from the last key at or before its time to the next key.
      int k = KeyFrames.before(keys, v.time(s));
      int start = k < 0 ? 0 : keys.get(k).frame();
      double groupEnd = k + 1 < keys.size() ? keys.get(k + 1).time() : Double.POSITIVE_INFINITY;
      long end = k + 1 < keys.size() ? keys.get(k + 1).frame() : Long.MAX_VALUE;
      if (pictures.track().getCurFrame() != start && !pictures.track().gotoFrame(start)) {
        return;
      }
      while (pictures.track().getCurFrame() < end && !filled(slots, s, v, Math.min(groupEnd, shown))) {
        Decoded frame = pictures.next(buffer);
        if (frame == null) {
          return;
        }
        double ts = frame.time();
        double duration = frame.duration() > 0 ? frame.duration() : 1 / v.fps();
        if (!Double.isFinite(ts) || ts > last + 1) {
          return; // past the last sample (allowing for frames decoded ahead of their display time)
        }
        // A sample at a frame boundary (up to rounding) belongs to the later frame, and to one frame only: the frame
        // intervals [ts, ts + duration) of a real stream meet within floating-point error, so both ends are nudged.
        int first = (int) Math.max(0, Math.ceil((ts - 1e-9) * v.fps()));
        float[] values = null;
        for (int i = first; i < v.maxFrames() && v.time(i) < ts + duration - 1e-9; i++) {
          if (values == null) {
            values = pictures.values(frame.picture());
          }
          slots[i] = values;
          sourceFrame[i] = frame.frame();
          sourceTime[i] = (float) ts;
        }
      }
      while (s < v.maxFrames() && v.time(s) < groupEnd - 1e-9) {
        s++;
      }
    }
  }

  /**
   * Whether every sample from {@code s} shown before {@code groupEnd} has its frame (the caller caps that at the
   * track's duration where it has one: no frame is shown after it, so the last group is not decoded to its end).
   */
  private static boolean filled(float[][] slots, int s, VideoPreprocess v, double groupEnd) {
    for (int i = s; i < slots.length && v.time(i) < groupEnd - 1e-9; i++) {
      if (slots[i] == null) {
        return false;
      }
    }
    return true;
  }

  private static void keyframes(List<KeyFrames.Key> keys, VideoPreprocess v, double duration, Pictures pictures,
      float[][] slots, int[] sourceFrame, float[] sourceTime) throws IOException, MediaException {
    byte[][] buffer = pictures.decoder().allocatePicture();
    float[][] decodedKeys = new float[keys.size()][];
    for (int s = 0; s < v.maxFrames(); s++) {
      double t = v.time(s);
      if (duration > 0 && Double.isFinite(duration) && t >= duration) {
        return; // no frame is shown at or after the end
      }
      int k = Math.max(0, KeyFrames.before(keys, t));
      if (decodedKeys[k] == null) {
        KeyFrames.Key key = keys.get(k);
        if (!pictures.track().gotoFrame(key.frame())) {
          return;
        }
        Decoded frame = pictures.next(buffer);
        if (frame == null) {
          return;
        }
        decodedKeys[k] = pictures.values(frame.picture());
      }
      slots[s] = decodedKeys[k];
      sourceFrame[s] = keys.get(k).frame();
      sourceTime[s] = (float) keys.get(k).time();
    }
  }

  private static float[] preprocess(Picture picture, ImagePreprocess p, int perImage, String which)
      throws MediaException {
    BufferedImage img = AWTUtil.toBufferedImage(picture);
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
