package io.inferium.functions.generation;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * How likely a text model finds a continuation after a context, the way lm-evaluation-harness
 * scores multiple choice: {@code context + continuation} is tokenized whole, the continuation's
 * tokens are those after the context's own tokens, and one forward pass over the whole sequence
 * (empty cache) gives, at each continuation position, log softmax of the previous position's
 * logits. The score is their sum; {@code greedy} says whether every continuation token was the
 * model's first choice.
 */
public final class LogLikelihood {

  /** One continuation's score: total log-probability (natural log), its token count, whether greedy decoding produces it. */
  public record Score(double logLikelihood, int tokens, boolean greedy) {}

  private LogLikelihood() {}

  /**
   * Scores {@code continuation} after {@code context}: one ONNX Runtime call on the caller's thread.
   *
   * @throws IllegalArgumentException when the context is empty, the continuation adds no tokens, or
   *                                  the whole does not fit the model's context
   */
  public static Score score(TextModel model, String context, String continuation) throws OrtException {
    int[] ctx = model.tokenizer().encode(context);
    int[] whole = model.tokenizer().encode(context + continuation);
    if (ctx.length == 0) {
      throw new IllegalArgumentException("the context encodes to no tokens");
    }
    if (whole.length <= ctx.length || !Arrays.equals(ctx, 0, ctx.length - 1, whole, 0, ctx.length - 1)) {
      throw new IllegalArgumentException("the continuation '" + continuation + "' adds no tokens after the context");
    }
    if (whole.length > model.maxContext()) {
      throw new IllegalArgumentException(whole.length + " tokens do not fit the model's context of " + model.maxContext());
    }
    // The context's last token may merge with the continuation's first; lm-eval keeps the whole's split.
    int first = ctx.length;
    while (first > 1 && whole[first - 1] != ctx[first - 1]) {
      first--;
    }
    int n = whole.length;
    long[] ids = new long[n];
    long[] mask = new long[n];
    long[] positions = new long[n];
    for (int t = 0; t < n; t++) {
      ids[t] = whole[t];
      mask[t] = 1;
      positions[t] = t;
    }
    Map<String, OnnxTensor> feed = new HashMap<>();
    try {
      feed.put("input_ids", OnnxTensor.createTensor(model.env(), LongBuffer.wrap(ids), new long[] {1, n}));
      feed.put("attention_mask", OnnxTensor.createTensor(model.env(), LongBuffer.wrap(mask), new long[] {1, n}));
      if (model.hasPositionIds()) {
        feed.put("position_ids", OnnxTensor.createTensor(model.env(), LongBuffer.wrap(positions), new long[] {1, n}));
      }
      long[] empty = {1, model.heads(), 0, model.headDim()};
      for (int layer = 0; layer < model.layers(); layer++) {
        for (String kv : new String[] {".key", ".value"}) {
          feed.put("past_key_values." + layer + kv, OnnxTensor.createTensor(model.env(), FloatBuffer.allocate(0), empty));
        }
      }
      try (OrtSession.Result result = model.session().run(feed, Set.of("logits"))) {
        OnnxTensor logits = (OnnxTensor) result.get("logits").orElseThrow();
        int width = (int) logits.getInfo().getShape()[2];
        int usable = Math.min(width, model.tokenizer().vocabSize());
        FloatBuffer data = logits.getFloatBuffer();
        double total = 0;
        boolean greedy = true;
        for (int t = first; t < n; t++) {
          int row = (t - 1) * width;
          double max = Double.NEGATIVE_INFINITY;
          int best = 0;
          for (int v = 0; v < usable; v++) {
            if (data.get(row + v) > max) {
              max = data.get(row + v);
              best = v;
            }
          }
          double sum = 0;
          for (int v = 0; v < usable; v++) {
            sum += Math.exp(data.get(row + v) - max);
          }
          total += data.get(row + whole[t]) - max - Math.log(sum);
          greedy &= best == whole[t];
        }
        return new Score(total, n - first, greedy);
      }
    } finally {
      feed.values().forEach(OnnxTensor::close);
    }
  }
}
