package io.inferium.functions.generation;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A text encoder (BERT or GPT style) whose {@code last_hidden_state} [batch, seq, hidden] is pooled
 * into one vector per input. Inputs {@code input_ids} and {@code attention_mask}; optional
 * {@code token_type_ids} (zeros) and {@code position_ids} (0, 1, …). Batches are right-padded, so
 * with a padding-aware attention mask an input's vector does not depend on its batch.
 */
public final class EmbeddingModel implements AutoCloseable {

  /** Inputs per ONNX Runtime call: bounds the padded batch's memory. */
  public static final int BATCH = 32;

  private final OrtEnvironment env;
  private final OrtSession session;
  private final TextTokenizer tokenizer;
  private final int maxContext;
  private final String outputName;
  private final Map<String, NodeInfo> inputs;

  /** One vector per input, in order, and the number of tokens read. */
  public record Embeddings(float[][] vectors, int promptTokens) {}

  private EmbeddingModel(OrtEnvironment env, OrtSession session, TextTokenizer tokenizer, int maxContext,
      String outputName) throws OrtException {
    this.env = env;
    this.session = session;
    this.tokenizer = tokenizer;
    this.maxContext = maxContext;
    this.outputName = outputName;
    this.inputs = session.getInputInfo();
  }

  /** {@code dir} holds {@code model.onnx} and {@code tokenizer.json}, optionally {@code tokenizer_config.json} and {@code config.json}. */
  public static EmbeddingModel load(OrtEnvironment env, Path dir, OrtSession.SessionOptions opts)
      throws OrtException, IOException {
    Path modelFile = TextModel.required(dir, "model.onnx");
    Path tokenizerFile = TextModel.required(dir, "tokenizer.json");
    JsonObject tokenizerConfig = TextModel.optionalJson(dir.resolve("tokenizer_config.json"));
    JsonObject config = TextModel.optionalJson(dir.resolve("config.json"));
    OrtSession session = env.createSession(modelFile.toString(), opts);
    try {
      for (String name : new String[] {"input_ids", "attention_mask"}) {
        if (!session.getInputInfo().containsKey(name)) {
          throw new IOException(modelFile + " has no input '" + name + "'; inputs are " + session.getInputInfo().keySet());
        }
      }
      String output = session.getOutputInfo().containsKey("last_hidden_state") ? "last_hidden_state"
          : session.getOutputNames().iterator().next();
      int maxContext = 512;
      for (Object v : new Object[] {config.getValue("max_position_embeddings"), config.getValue("n_positions"),
          tokenizerConfig.getValue("model_max_length")}) {
        if (v instanceof Number n && n.doubleValue() >= 1 && n.doubleValue() <= 10_000_000) {
          maxContext = n.intValue();
          break;
        }
      }
      TextTokenizer tokenizer = TextTokenizer.load(tokenizerFile, tokenizerConfig);
      return new EmbeddingModel(env, session, tokenizer, maxContext, output);
    } catch (IOException | RuntimeException | OrtException e) {
      session.close();
      throw e;
    }
  }

  public TextTokenizer tokenizer() {
    return tokenizer;
  }

  /** The longest input, in tokens. */
  public int maxContext() {
    return maxContext;
  }

  /**
   * Embeds {@code inputs}. {@code pooling}: {@code "mean"} (over real tokens), {@code "cls"} (the
   * first token) or {@code "last"} (the last real token); {@code normalize} scales each vector to
   * L2 norm 1.
   *
   * @throws IllegalArgumentException for an unknown pooling, an empty input or one longer than {@link #maxContext()}
   */
  public Embeddings embed(List<String> inputs, String pooling, boolean normalize) throws OrtException {
    if (!List.of("mean", "cls", "last").contains(pooling)) {
      throw new IllegalArgumentException("pooling must be mean, cls or last, got '" + pooling + "'");
    }
    int[][] ids = new int[inputs.size()][];
    int tokens = 0;
    for (int i = 0; i < ids.length; i++) {
      ids[i] = tokenizer.encode(inputs.get(i));
      if (ids[i].length == 0) {
        throw new IllegalArgumentException("input " + i + " is empty: it has no tokens to embed");
      }
      if (ids[i].length > maxContext) {
        throw new IllegalArgumentException("input " + i + " has " + ids[i].length + " tokens; this model reads at most "
            + maxContext);
      }
      tokens += ids[i].length;
    }
    float[][] vectors = new float[ids.length][];
    for (int from = 0; from < ids.length; from += BATCH) {
      int to = Math.min(ids.length, from + BATCH);
      runBatch(ids, from, to, pooling, vectors);
    }
    if (normalize) {
      for (float[] v : vectors) {
        double sum = 0;
        for (float x : v) {
          sum += (double) x * x;
        }
        float scale = sum > 0 ? (float) (1 / Math.sqrt(sum)) : 0;
        for (int k = 0; k < v.length; k++) {
          v[k] *= scale;
        }
      }
    }
    return new Embeddings(vectors, tokens);
  }

  private void runBatch(int[][] ids, int from, int to, String pooling, float[][] out) throws OrtException {
    int batch = to - from;
    int seq = 0;
    for (int i = from; i < to; i++) {
      seq = Math.max(seq, ids[i].length);
    }
    long[] inputIds = new long[batch * seq];
    long[] mask = new long[batch * seq];
    long[] positions = new long[batch * seq];
    java.util.Arrays.fill(inputIds, tokenizer.padTokenId());
    for (int b = 0; b < batch; b++) {
      int[] row = ids[from + b];
      for (int t = 0; t < seq; t++) {
        positions[b * seq + t] = t;
        if (t < row.length) {
          inputIds[b * seq + t] = row[t];
          mask[b * seq + t] = 1;
        }
      }
    }
    long[] shape = {batch, seq};
    Map<String, OnnxTensor> feed = new HashMap<>();
    try {
      feed.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(inputIds), shape));
      feed.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(mask), shape));
      if (inputs.containsKey("token_type_ids")) {
        feed.put("token_type_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(new long[batch * seq]), shape));
      }
      if (inputs.containsKey("position_ids")) {
        feed.put("position_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(positions), shape));
      }
      try (OrtSession.Result result = session.run(feed, java.util.Set.of(outputName))) {
        OnnxTensor hidden = (OnnxTensor) result.get(outputName).orElseThrow();
        long[] hs = hidden.getInfo().getShape();
        int width = (int) hs[hs.length - 1];
        FloatBuffer data = hidden.getFloatBuffer();
        for (int b = 0; b < batch; b++) {
          out[from + b] = pool(data, b, seq, width, ids[from + b].length, pooling);
        }
      }
    } finally {
      feed.values().forEach(OnnxTensor::close);
    }
  }

  private static float[] pool(FloatBuffer data, int b, int seq, int width, int length, String pooling) {
    float[] v = new float[width];
    int first = pooling.equals("last") ? length - 1 : 0;
    int last = pooling.equals("mean") ? length - 1 : first;
    for (int t = first; t <= last; t++) {
      int base = (b * seq + t) * width;
      for (int k = 0; k < width; k++) {
        v[k] += data.get(base + k);
      }
    }
    int count = last - first + 1;
    for (int k = 0; k < width; k++) {
      v[k] /= count;
    }
    return v;
  }

  @Override
  public void close() throws OrtException {
    tokenizer.close();
    session.close();
  }
}
