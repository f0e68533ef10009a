package io.inferium.engine.deploy;

import io.inferium.functions.FunctionSpec;
import io.inferium.functions.ImagePreprocess;
import io.inferium.functions.MediaOptions;
import io.inferium.functions.onnx.OnnxModel;
import java.util.List;
import java.util.Optional;

/**
 * Whether an image function's {@code preprocess} produces what the model file declares it takes: the
 * input it names (or the only one) exists, has the preprocess's element type, rank 4 and, in the
 * preprocess's layout, the same channels, height and width wherever the model fixes them; and a
 * {@code postprocess.output} names an output; an audio function's FP32 [N, samples], or its log-mel features' [N, n_mels,
 * frames] or [N, 1, n_mels, frames]. A mismatch refuses the deploy with a 400 naming the field.
 */
final class MediaFit {

  private MediaFit() {}

  static Optional<String> problem(FunctionSpec spec, OnnxModel model) {
    MediaOptions media = spec.media();
    if (media == null) {
      return Optional.empty();
    }
    List<ExampleFit.Declared> inputs = ExampleFit.declared(model);
    String takes = inputs.stream().map(ExampleFit.Declared::describe).toList().toString();
    String named = media.preprocess() != null ? media.preprocess().input() : media.audio().input();
    ExampleFit.Declared input;
    if (named != null) {
      input = inputs.stream().filter(d -> d.name().equals(named)).findFirst().orElse(null);
      if (input == null) {
        return Optional.of("field 'preprocess.input': the model has no input '" + named + "'; it takes " + takes);
      }
    } else if (inputs.size() != 1) {
      return Optional.of("field 'preprocess.input': the model takes " + inputs.size() + " inputs " + takes
          + "; name the one the media feeds");
    } else {
      input = inputs.get(0);
    }
    String output = media.postprocess().output();
    if (output != null && model.outputs().stream().noneMatch(o -> o.name().equals(output))) {
      return Optional.of("field 'postprocess.output': the model has no output '" + output + "'");
    }
    return media.preprocess() != null ? image(media.preprocess(), input) : audio(media.audio(), input);
  }

  private static Optional<String> audio(io.inferium.functions.AudioPreprocess p, ExampleFit.Declared input) {
    if (input.type() != null && input.type() != io.inferium.functions.tensor.DataType.FP32) {
      return Optional.of("field 'preprocess': input " + input.describe() + " takes " + input.type().v2Name()
          + ", audio is pre-processed to FP32");
    }
    if (p.features() != null) {
      return features(p, input);
    }
    if (input.shape() != null && input.shape().length != 2) {
      return Optional.of("field 'preprocess': input " + input.describe() + " has rank " + input.shape().length
          + ", a batch of clips is rank 2 [N, samples]" + (input.shape().length >= 3 ? " (or declare preprocess.features "
          + "for a model that takes log-mel features)" : ""));
    }
    if (input.shape() != null && input.shape()[1] >= 0 && input.shape()[1] != p.samples()) {
      return Optional.of("field 'preprocess.seconds': input " + input.describe() + " takes " + input.shape()[1]
          + " samples, sample_rate × seconds makes " + p.samples());
    }
    return Optional.empty();
  }

  /** Log-mel features: [N, n_mels, frames], or [N, 1, n_mels, frames] for a rank-4 input (or the spec's rank). */
  private static Optional<String> features(io.inferium.functions.AudioPreprocess p, ExampleFit.Declared input) {
    if (input.shape() == null) {
      return Optional.empty();
    }
    long[] declared = input.shape();
    int rank = p.features().rank() != null ? p.features().rank() : declared.length == 4 ? 4 : 3;
    long[] made = p.withModelRank(rank).shape(-1);
    String expected = "[N, " + p.features().nMels() + ", " + made[made.length - 1] + "] or [N, 1, "
        + p.features().nMels() + ", " + made[made.length - 1] + "] (n_mels, frames)";
    if (declared.length != made.length) {
      return Optional.of("field 'preprocess.features" + (p.features().rank() != null ? ".rank" : "") + "': input "
          + input.describe() + " has rank " + declared.length + ", the log-mel features are " + (p.features().rank() != null
          ? "rank " + rank + " " + java.util.Arrays.toString(made).replace("-1", "N") : expected));
    }
    if (rank == 4 && declared[1] >= 0 && declared[1] != 1) {
      return Optional.of("field 'preprocess.features': input " + input.describe() + " has " + declared[1]
          + " channels at dimension 1, the log-mel features are " + expected);
    }
    int mels = made.length - 2;
    if (declared[mels] >= 0 && declared[mels] != made[mels]) {
      return Optional.of("field 'preprocess.features.n_mels': input " + input.describe() + " takes " + declared[mels]
          + " mel bands, the spec makes " + made[mels] + "; expected " + expected);
    }
    if (declared[mels + 1] >= 0 && declared[mels + 1] != made[mels + 1]) {
      return Optional.of("field 'preprocess.features.hop': input " + input.describe() + " takes " + declared[mels + 1]
          + " frames, the spec makes " + made[mels + 1] + " (seconds, n_fft, hop and center set it); expected " + expected);
    }
    return Optional.empty();
  }

  private static Optional<String> image(ImagePreprocess p, ExampleFit.Declared input) {
    if (input.type() != null && input.type() != p.dtype()) {
      return Optional.of("field 'preprocess.dtype': input " + input.describe() + " takes " + input.type().v2Name()
          + ", the preprocess makes " + p.dtype().v2Name());
    }
    if (input.shape() != null) {
      long[] made = p.shape(1);
      if (input.shape().length != 4) {
        return Optional.of("field 'preprocess': input " + input.describe() + " has rank " + input.shape().length
            + ", an image batch is rank 4 (" + p.layout() + ")");
      }
      String[] fields = p.layout() == ImagePreprocess.Layout.NCHW
          ? new String[] {null, "preprocess.channels", "preprocess.size.height", "preprocess.size.width"}
          : new String[] {null, "preprocess.size.height", "preprocess.size.width", "preprocess.channels"};
      for (int d = 1; d < 4; d++) {
        if (input.shape()[d] >= 0 && input.shape()[d] != made[d]) {
          return Optional.of("field '" + fields[d] + "': input " + input.describe() + " is " + p.layout()
              + " with " + input.shape()[d] + " at dimension " + d + ", the preprocess makes " + made[d]);
        }
      }
    }
    return Optional.empty();
  }
}
