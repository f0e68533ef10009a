package io.inferium.functions.generation;

import io.inferium.functions.SamplingParams;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Picks one sequence's next token from its logits, in this order: repetition penalty (prompt and
 * output tokens, Hugging Face's divide-positive / multiply-negative rule), frequency and presence
 * penalties (output tokens, OpenAI's subtraction), then greedy argmax when temperature is 0;
 * otherwise temperature, top-k, top-p, and a draw from the sequence's own PRNG. The PRNG is
 * consumed exactly once per sampled token, so a seeded sequence draws the same numbers whatever
 * else shares its batch.
 */
final class Sampler {

  private final SamplingParams params;
  private final SplittableRandom random;
  private final BitSet seen = new BitSet();
  private final Map<Integer, Integer> outputCounts = new HashMap<>();
  private float[] scratch = new float[0];
  private long[] order = new long[0];

  Sampler(SamplingParams params, int[] prompt) {
    this.params = params;
    this.random = params.seed() == null ? new SplittableRandom() : new SplittableRandom(params.seed());
    for (int id : prompt) {
      seen.set(id);
    }
  }

  /** Records a sampled token for the penalties. */
  void accept(int token) {
    seen.set(token);
    outputCounts.merge(token, 1, Integer::sum);
  }

  /** Samples from {@code vocab} logits starting at {@code offset} of {@code logits}. */
  int sample(FloatBuffer logits, int offset, int vocab) {
    if (scratch.length < vocab) {
      scratch = new float[vocab];
    }
    float[] x = scratch;
    logits.get(offset, x, 0, vocab);
    applyPenalties(x, vocab);
    if (params.temperature() == 0) {
      return argmax(x, vocab);
    }
    float invT = (float) (1 / params.temperature());
    for (int i = 0; i < vocab; i++) {
      x[i] *= invT;
    }
    boolean filtered = (params.topK() > 0 && params.topK() < vocab) || params.topP() < 1;
    return filtered ? sampleFiltered(x, vocab) : sampleAll(x, vocab);
  }

  private void applyPenalties(float[] x, int vocab) {
    double rep = params.repetitionPenalty();
    if (rep != 1) {
      for (int id = seen.nextSetBit(0); id >= 0 && id < vocab; id = seen.nextSetBit(id + 1)) {
        x[id] = (float) (x[id] > 0 ? x[id] / rep : x[id] * rep);
      }
    }
    double presence = params.presencePenalty();
    double frequency = params.frequencyPenalty();
    if (presence != 0 || frequency != 0) {
      for (Map.Entry<Integer, Integer> e : outputCounts.entrySet()) {
        if (e.getKey() < vocab) {
          x[e.getKey()] -= (float) (frequency * e.getValue() + presence);
        }
      }
    }
  }

  /** The first maximal index, so ties resolve the same way everywhere. */
  private static int argmax(float[] x, int vocab) {
    int best = 0;
    for (int i = 1; i < vocab; i++) {
      if (x[i] > x[best]) {
        best = i;
      }
    }
    return best;
  }

  private int sampleAll(float[] x, int vocab) {
    float max = x[argmax(x, vocab)];
    double sum = 0;
    for (int i = 0; i < vocab; i++) {
      x[i] = (float) Math.exp(x[i] - max);
      sum += x[i];
    }
    double r = random.nextDouble() * sum;
    double acc = 0;
    for (int i = 0; i < vocab; i++) {
      acc += x[i];
      if (r < acc) {
        return i;
      }
    }
    return argmax(x, vocab);
  }

  private int sampleFiltered(float[] x, int vocab) {
    if (order.length < vocab) {
      order = new long[vocab];
    }
    // Sort (logit descending, id ascending) by packing a sortable key and the id into one long.
    for (int i = 0; i < vocab; i++) {
      int bits = Float.floatToIntBits(x[i]);
      int sortable = bits ^ ((bits >> 31) & 0x7fffffff);
      order[i] = ((long) ~sortable << 32) | i;
    }
    Arrays.sort(order, 0, vocab);
    int k = params.topK() > 0 ? Math.min(params.topK(), vocab) : vocab;
    float max = x[(int) order[0]];
    double[] p = new double[k];
    double sum = 0;
    for (int j = 0; j < k; j++) {
      p[j] = Math.exp(x[(int) order[j]] - max);
      sum += p[j];
    }
    int kept = k;
    if (params.topP() < 1) {
      double acc = 0;
      for (int j = 0; j < k; j++) {
        acc += p[j] / sum;
        if (acc >= params.topP()) {
          kept = j + 1;
          break;
        }
      }
      sum = 0;
      for (int j = 0; j < kept; j++) {
        sum += p[j];
      }
    }
    double r = random.nextDouble() * sum;
    double acc = 0;
    for (int j = 0; j < kept; j++) {
      acc += p[j];
      if (r < acc) {
        return (int) order[j];
      }
    }
    return (int) order[kept - 1];
  }
}
