package io.inferium.functions.generation;

import ai.onnxruntime.OrtException;
import io.inferium.functions.SamplingParams;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Continuous batching over a {@link TextModel}, with one KV cache per sequence. Each
 * {@link #step()} first admits waiting sequences (up to {@code maxRunning} running, and up to
 * {@code maxTokensPerStep} prompt tokens, though a lone prompt longer than that is still admitted
 * so that it cannot starve) and prefills them together, left-padded, which yields their first
 * token; then it runs one decode step for every sequence that was already running: their caches
 * stacked into one left-padded batch with the matching {@code attention_mask} and
 * {@code position_ids}, one ONNX Runtime call, {@code present.*} split back per sequence. Finished
 * sequences leave at once. With {@code useKvCache == false} every sequence is instead recomputed
 * alone from its first token at every step: slow, but the reference the cached path is tested
 * against.
 *
 * <p>Not thread-safe: the owner thread calls {@link #submit}, {@link #cancel} and {@link #step}, and
 * listeners are called from {@code step}. Seeded sampling gives the same tokens whatever else is in
 * the batch, up to floating point: a differently padded batch may sum in another order and move a
 * logit in its last bits, which changes a token only at a near tie.
 */
public final class DecodeLoop {

  private static final Logger log = LoggerFactory.getLogger(DecodeLoop.class);

  private final TextModel model;
  private final int maxRunning;
  private final int maxTokensPerStep;
  private final boolean useKvCache;
  private final int vocab;
  private final ArrayDeque<DecodingSequence> waiting = new ArrayDeque<>();
  private final List<DecodingSequence> running = new ArrayList<>();
  private final Set<Long> cancelled = new HashSet<>();
  private final Set<Long> ids = new HashSet<>();
  private final ForwardPass forward;

  public DecodeLoop(TextModel model, int maxRunning, int maxTokensPerStep, boolean useKvCache) {
    if (maxRunning < 1 || maxTokensPerStep < 1) {
      throw new IllegalArgumentException("maxRunning and maxTokensPerStep must be at least 1");
    }
    this.model = model;
    this.maxRunning = maxRunning;
    this.maxTokensPerStep = maxTokensPerStep;
    this.useKvCache = useKvCache;
    this.vocab = model.tokenizer().vocabSize();
    this.forward = new ForwardPass(model, vocab);
  }

  /**
   * Queues a sequence; it joins at the next step that has room. A prompt that is empty, holds an id
   * outside the vocabulary or is longer than the context gets {@code onError} at once; a prompt
   * that fills the context exactly finishes with {@code "length"} and no tokens.
   */
  public void submit(long id, int[] promptIds, SamplingParams params, GenerationListener listener) {
    String problem = null;
    if (ids.contains(id)) {
      problem = "sequence id " + id + " is already in the loop";
    } else if (promptIds.length == 0) {
      problem = "the prompt is empty: it has no tokens to continue";
    } else if (promptIds.length > model.maxContext()) {
      problem = "the prompt has " + promptIds.length + " tokens; this model's context holds " + model.maxContext();
    } else {
      for (int t : promptIds) {
        if (t < 0 || t >= vocab) {
          problem = "prompt token " + t + " is outside the vocabulary [0, " + vocab + ")";
          break;
        }
      }
    }
    if (problem != null) {
      listener.onError(id, new IllegalArgumentException(problem));
      return;
    }
    DecodingSequence s = new DecodingSequence(id, promptIds.clone(), params, listener, model);
    if (promptIds.length == model.maxContext()) {
      s.finish("length");
      return;
    }
    ids.add(id);
    waiting.add(s);
  }

  /** The sequence leaves at the next step with {@code onFinish(id, "cancelled", …)}; unknown ids are ignored. */
  public void cancel(long id) {
    if (ids.contains(id)) {
      cancelled.add(id);
    }
  }

  /**
   * Admits and prefills waiting sequences, then decodes one token for every running one.
   *
   * @return true while sequences are running or waiting
   * @throws OrtException when ONNX Runtime fails; the sequences of that call have had {@code onError}
   *     and left, the loop stays usable
   */
  public boolean step() throws OrtException {
    applyCancellations();
    List<DecodingSequence> decoding = new ArrayList<>(running);
    List<DecodingSequence> admitted = admit();
    running.addAll(admitted);
    try {
      if (useKvCache) {
        if (!admitted.isEmpty()) {
          forward.run(admitted, true);
        }
        if (!decoding.isEmpty()) {
          forward.run(decoding, false);
        }
      } else {
        for (DecodingSequence s : running) {
          forward.recompute(s);
        }
      }
    } finally {
      removeFinished();
    }
    return !running.isEmpty() || !waiting.isEmpty();
  }

  public int running() {
    return running.size();
  }

  public int waiting() {
    return waiting.size();
  }

  private void applyCancellations() {
    if (cancelled.isEmpty()) {
      return;
    }
    for (Iterator<DecodingSequence> it = waiting.iterator(); it.hasNext(); ) {
      DecodingSequence s = it.next();
      if (cancelled.contains(s.id)) {
        it.remove();
        ids.remove(s.id);
        notifyFinish(s, "cancelled");
      }
    }
    for (DecodingSequence s : running) {
      if (cancelled.contains(s.id)) {
        notifyFinish(s, "cancelled");
      }
    }
    cancelled.clear();
    removeFinished();
  }

  private List<DecodingSequence> admit() {
    List<DecodingSequence> admitted = new ArrayList<>();
    int budget = maxTokensPerStep;
    while (!waiting.isEmpty() && running.size() + admitted.size() < maxRunning) {
      int length = waiting.peek().prompt.length;
      if (!admitted.isEmpty() && length > budget) {
        break;
      }
      budget -= length;
      admitted.add(waiting.poll());
    }
    return admitted;
  }

  private void removeFinished() {
    running.removeIf(s -> {
      if (s.finished()) {
        ids.remove(s.id);
        return true;
      }
      return false;
    });
  }

  private void notifyFinish(DecodingSequence s, String reason) {
    try {
      s.finish(reason);
    } catch (RuntimeException e) {
      log.warn("listener of sequence {} failed", s.id, e);
    }
  }

}
