package io.inferium.functions.generation;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ONNX Runtime call of the decoder over a batch of {@link DecodingSequence}s, for
 * {@link DecodeLoop}: builds the left-padded inputs from their caches, runs, appends the new
 * positions of {@code present.*} to each cache and lets each sequence sample from its logits row.
 * Owns the direct buffers reused from step to step.
 */
final class ForwardPass {

  private static final Logger log = LoggerFactory.getLogger(ForwardPass.class);

  private final TextModel model;
  private final int vocab;
  private final FloatBuffer[] pastBuffers;
  private final FloatBuffer[] presentBuffers;
  private final FloatBuffer[] logitsBuffer = new FloatBuffer[1];

  ForwardPass(TextModel model, int vocab) {
    this.model = model;
    this.vocab = vocab;
    this.pastBuffers = new FloatBuffer[model.layers() * 2];
    this.presentBuffers = new FloatBuffer[model.layers() * 2];
  }

  /**
   * One ONNX Runtime call for {@code batch}: a prefill (whole prompts, empty past) or a decode step
   * (each sequence's pending token after its cache). Rows are left-padded to the longest.
   */
  void run(List<DecodingSequence> batch, boolean prefill) throws OrtException {
    int rows = batch.size();
    int layers = model.layers();
    int heads = model.heads();
    int headDim = model.headDim();
    int pastLength = 0;
    int inputLength = 1;
    for (DecodingSequence s : batch) {
      if (prefill) {
        inputLength = Math.max(inputLength, s.prompt.length);
      } else {
        pastLength = Math.max(pastLength, s.cache.length());
      }
    }
    int total = pastLength + inputLength;
    long[] inputIds = new long[rows * inputLength];
    long[] mask = new long[rows * total];
    long[] positions = new long[rows * inputLength];
    int pad = model.tokenizer().padTokenId();
    for (int r = 0; r < rows; r++) {
      DecodingSequence s = batch.get(r);
      if (prefill) {
        int offset = inputLength - s.prompt.length;
        for (int t = 0; t < inputLength; t++) {
          boolean real = t >= offset;
          inputIds[r * inputLength + t] = real ? s.prompt[t - offset] : pad;
          mask[r * total + t] = real ? 1 : 0;
          positions[r * inputLength + t] = real ? t - offset : 0;
        }
      } else {
        int cached = s.cache.length();
        inputIds[r] = s.pendingToken();
        positions[r] = cached;
        for (int t = pastLength - cached; t < total; t++) {
          mask[r * total + t] = 1;
        }
      }
    }
    Map<String, OnnxTensor> feed = new HashMap<>();
    Map<String, OnnxTensor> pinned = new HashMap<>();
    try {
      feed.put("input_ids", OnnxTensor.createTensor(model.env(), LongBuffer.wrap(inputIds), new long[] {rows, inputLength}));
      feed.put("attention_mask", OnnxTensor.createTensor(model.env(), LongBuffer.wrap(mask), new long[] {rows, total}));
      if (model.hasPositionIds()) {
        feed.put("position_ids", OnnxTensor.createTensor(model.env(), LongBuffer.wrap(positions), new long[] {rows, inputLength}));
      }
      long[] pastShape = {rows, heads, pastLength, headDim};
      int pastSize = rows * heads * pastLength * headDim;
      for (int layer = 0; layer < layers; layer++) {
        for (int kv = 0; kv < 2; kv++) {
          FloatBuffer buffer = buffer(pastBuffers, layer * 2 + kv, pastSize);
          for (int r = 0; r < rows && !prefill; r++) {
            batch.get(r).cache.writeRow(buffer, layer, kv == 1, r, pastLength);
          }
          feed.put(pastName(layer, kv == 1), OnnxTensor.createTensor(model.env(), buffer, pastShape));
        }
      }
      // ONNX Runtime writes present.* (and logits, when its width is known) straight into reused
      // direct buffers: no per-step allocation and no copy out of the runtime.
      long[] presentShape = {rows, heads, total, headDim};
      int presentSize = rows * heads * total * headDim;
      for (int layer = 0; layer < layers; layer++) {
        for (int kv = 0; kv < 2; kv++) {
          FloatBuffer buffer = buffer(presentBuffers, layer * 2 + kv, presentSize);
          pinned.put(presentName(layer, kv == 1), OnnxTensor.createTensor(model.env(), buffer, presentShape));
        }
      }
      int width = model.logitsWidth();
      if (width > 0) {
        FloatBuffer buffer = buffer(logitsBuffer, 0, rows * inputLength * width);
        pinned.put("logits", OnnxTensor.createTensor(model.env(), buffer, new long[] {rows, inputLength, width}));
      }
      try (OrtSession.Result result = model.session().run(feed, width > 0 ? Set.of() : Set.of("logits"), pinned)) {
        FloatBuffer logits = width > 0 ? logitsBuffer[0]
            : ((OnnxTensor) result.get("logits").orElseThrow()).getFloatBuffer();
        int logitsWidth = width > 0 ? width : vocab;
        readResult(logits, logitsWidth, batch, prefill, inputLength, total);
      }
    } catch (OrtException | RuntimeException e) {
      for (DecodingSequence s : batch) {
        if (!s.finished()) {
          notifyError(s, e);
        }
      }
      if (e instanceof OrtException ort) {
        throw ort;
      }
      log.error("decode step failed", e);
    } finally {
      feed.values().forEach(OnnxTensor::close);
      pinned.values().forEach(OnnxTensor::close);
    }
  }

  private void readResult(FloatBuffer logitData, int width, List<DecodingSequence> batch, boolean prefill,
      int inputLength, int total) {
    int usable = Math.min(width, vocab);
    if (prefill) {
      for (DecodingSequence s : batch) {
        s.cache = new KvCache(model.layers(), model.heads(), model.headDim(), s.prompt.length + 16);
      }
    }
    for (int layer = 0; layer < model.layers(); layer++) {
      for (int kv = 0; kv < 2; kv++) {
        FloatBuffer present = presentBuffers[layer * 2 + kv];
        for (int r = 0; r < batch.size(); r++) {
          DecodingSequence s = batch.get(r);
          if (prefill) {
            int length = s.prompt.length;
            s.cache.append(present, layer, kv == 1, r, total, total - length, length);
          } else {
            s.cache.append(present, layer, kv == 1, r, total, total - 1, 1);
          }
        }
      }
    }
    for (int r = 0; r < batch.size(); r++) {
      DecodingSequence s = batch.get(r);
      s.cache.advance(prefill ? s.prompt.length : 1);
      advance(s, logitData, (r * inputLength + inputLength - 1) * width, usable);
    }
  }

  /** Reference path: the whole sequence, alone, from an empty cache. */
  void recompute(DecodingSequence s) throws OrtException {
    int[] tokens = s.allTokens();
    int n = tokens.length;
    long[] inputIds = new long[n];
    long[] mask = new long[n];
    long[] positions = new long[n];
    for (int t = 0; t < n; t++) {
      inputIds[t] = tokens[t];
      mask[t] = 1;
      positions[t] = t;
    }
    Map<String, OnnxTensor> feed = new HashMap<>();
    try {
      feed.put("input_ids", OnnxTensor.createTensor(model.env(), LongBuffer.wrap(inputIds), new long[] {1, n}));
      feed.put("attention_mask", OnnxTensor.createTensor(model.env(), LongBuffer.wrap(mask), new long[] {1, n}));
      if (model.hasPositionIds()) {
        feed.put("position_ids", OnnxTensor.createTensor(model.env(), LongBuffer.wrap(positions), new long[] {1, n}));
      }
      long[] empty = {1, model.heads(), 0, model.headDim()};
      for (int layer = 0; layer < model.layers(); layer++) {
        for (int kv = 0; kv < 2; kv++) {
          feed.put(pastName(layer, kv == 1), OnnxTensor.createTensor(model.env(), buffer(pastBuffers, layer * 2 + kv, 0), empty));
        }
      }
      try (OrtSession.Result result = model.session().run(feed, Set.of("logits"))) {
        OnnxTensor logits = (OnnxTensor) result.get("logits").orElseThrow();
        int width = (int) logits.getInfo().getShape()[2];
        advance(s, logits.getFloatBuffer(), (n - 1) * width, Math.min(width, vocab));
      }
    } catch (OrtException e) {
      notifyError(s, e);
      throw e;
    } finally {
      feed.values().forEach(OnnxTensor::close);
    }
  }

  /** A reused direct buffer: ONNX Runtime reads and writes it in place instead of copying. */
  private static FloatBuffer buffer(FloatBuffer[] pool, int index, int size) {
    FloatBuffer buffer = pool[index];
    if (buffer == null || buffer.capacity() < size) {
      int capacity = Math.max(size, buffer == null ? 1024 : buffer.capacity() * 2);
      buffer = ByteBuffer.allocateDirect(capacity * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
      pool[index] = buffer;
    }
    buffer.clear();
    buffer.limit(size);
    return buffer;
  }

  private static String pastName(int layer, boolean value) {
    return "past_key_values." + layer + (value ? ".value" : ".key");
  }

  private static String presentName(int layer, boolean value) {
    return "present." + layer + (value ? ".value" : ".key");
  }

  /** A listener that throws fails only its own sequence. */
  private void advance(DecodingSequence s, FloatBuffer logits, int offset, int usable) {
    try {
      s.advance(logits, offset, usable);
    } catch (RuntimeException e) {
      if (!s.finished()) {
        notifyError(s, e);
      } else {
        log.warn("listener of sequence {} failed", s.id, e);
      }
    }
  }

  private void notifyError(DecodingSequence s, Exception cause) {
    try {
      s.fail(cause);
    } catch (RuntimeException e) {
      log.warn("listener of sequence {} failed", s.id, e);
    }
  }
}
