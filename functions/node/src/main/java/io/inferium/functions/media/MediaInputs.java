package io.inferium.functions.media;

import io.inferium.functions.AudioPreprocess;
import io.inferium.functions.ImagePreprocess;
import io.inferium.functions.VideoPreprocess;
import io.inferium.functions.runtime.Cancellation;
import io.inferium.functions.tensor.DataType;
import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.tensor.Tensors;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;

/**
 * An INFER's media (frame meta {@code media}): the BYTES input it names, one encoded file per element, becomes
 * that input's tensor — images by {@link ImageInputs}, audio ({@code "type": "audio"}) by {@link AudioInputs},
 * videos ({@code "type": "video"}) by {@link VideoInputs}, whose frames the model sees as a batch of images and
 * whose outputs {@link Prepared#finish} puts back per video. Other inputs, and the named input when it already is a
 * tensor (as V2 callers send it), pass unchanged.
 */
public final class MediaInputs {

  private MediaInputs() {}

  /** The model's inputs, and what turns its outputs into the answer's (per video for a video function). */
  public record Prepared(List<Tensor> inputs, VideoInputs.Frames frames) {
    public List<Tensor> finish(List<Tensor> outputs) throws MediaException {
      return frames == null ? outputs : frames.regroup(outputs);
    }
  }

  public static List<Tensor> prepare(JsonObject media, List<Tensor> inputs, Cancellation cancellation) throws MediaException {
    return prepared(media, inputs, cancellation).inputs();
  }

  public static Prepared prepared(JsonObject media, List<Tensor> inputs, Cancellation cancellation) throws MediaException {
    boolean audio = "audio".equals(media.getString("type"));
    boolean video = "video".equals(media.getString("type"));
    ImagePreprocess image = null;
    AudioPreprocess sound = null;
    VideoPreprocess sampling = null;
    try {
      if (audio) {
        sound = AudioPreprocess.fromJson(media);
      } else if (video) {
        sampling = VideoPreprocess.fromJson(media);
        image = ImagePreprocess.fromJson(VideoPreprocess.frameFields(media));
      } else {
        image = ImagePreprocess.fromJson(media);
      }
    } catch (IllegalArgumentException e) {
      throw new MediaException("media: " + e.getMessage(), false);
    }
    String name = audio ? sound.input() : image.input();
    List<Tensor> out = new ArrayList<>(inputs.size());
    VideoInputs.Frames frames = null;
    for (Tensor t : inputs) {
      if (t.type() == DataType.BYTES && t.name().equals(name)) {
        List<byte[]> files = Tensors.toByteArrays(t);
        if (video) {
          frames = VideoInputs.tensor(image, sampling, files, cancellation);
          out.add(frames.input());
        } else {
          out.add(audio ? AudioInputs.tensor(sound, files, cancellation) : ImageInputs.tensor(image, files, cancellation));
        }
      } else {
        out.add(t);
      }
    }
    return new Prepared(out, frames);
  }
}
