package io.inferium.functions.generation;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * A decoder-only language model in Hugging Face's decoder-with-past ONNX layout (see
 * {@code docs/TEXT_MODELS.md}): {@code input_ids}, {@code attention_mask}, optional
 * {@code position_ids} and {@code past_key_values.{i}.key|value} in; {@code logits} and
 * {@code present.{i}.key|value} out. Its directory holds {@code model.onnx} and
 * {@code tokenizer.json}, optionally {@code tokenizer_config.json}, {@code generation_config.json}
 * and {@code config.json}.
 */
public final class TextModel implements AutoCloseable {

  /** Used when neither config.json nor tokenizer_config.json says how long the context is. */
  public static final int DEFAULT_MAX_CONTEXT = 2048;

  private final OrtEnvironment env;
  private final OrtSession session;
  private final TextTokenizer tokenizer;
  private final ChatTemplate chatTemplate;
  private final JsonObject generationConfig;
  private final int maxContext;
  private final int layers;
  private final int heads;
  private final int headDim;
  private final boolean hasPositionIds;
  private final int logitsWidth;

  private TextModel(OrtEnvironment env, OrtSession session, TextTokenizer tokenizer, ChatTemplate chatTemplate,
      JsonObject generationConfig, int maxContext, int layers, int heads, int headDim, boolean hasPositionIds) {
    this.env = env;
    this.session = session;
    this.tokenizer = tokenizer;
    this.chatTemplate = chatTemplate;
    this.generationConfig = generationConfig;
    this.maxContext = maxContext;
    this.layers = layers;
    this.heads = heads;
    this.headDim = headDim;
    this.hasPositionIds = hasPositionIds;
    long[] logitsShape;
    try {
      logitsShape = ((TensorInfo) session.getOutputInfo().get("logits").getInfo()).getShape();
    } catch (OrtException e) {
      throw new IllegalStateException(e);
    }
    this.logitsWidth = logitsShape.length == 3 && logitsShape[2] > 0 ? (int) logitsShape[2] : -1;
  }

  /** Loads {@code dir}; call from a thread with a large stack, as all ONNX Runtime calls. */
  public static TextModel load(OrtEnvironment env, Path dir, OrtSession.SessionOptions opts)
      throws OrtException, IOException {
    Path modelFile = required(dir, "model.onnx");
    Path tokenizerFile = required(dir, "tokenizer.json");
    JsonObject tokenizerConfig = optionalJson(dir.resolve("tokenizer_config.json"));
    JsonObject generationConfig = optionalJson(dir.resolve("generation_config.json"));
    JsonObject config = optionalJson(dir.resolve("config.json"));

    OrtSession session = env.createSession(modelFile.toString(), opts);
    TextTokenizer tokenizer = null;
    try {
      Map<String, NodeInfo> inputs = session.getInputInfo();
      for (String name : new String[] {"input_ids", "attention_mask"}) {
        if (!inputs.containsKey(name)) {
          throw new IOException(modelFile + " has no input '" + name + "'; inputs are " + inputs.keySet());
        }
      }
      if (!session.getOutputInfo().containsKey("logits")) {
        throw new IOException(modelFile + " has no output 'logits'; outputs are " + session.getOutputInfo().keySet());
      }
      int layers = 0;
      while (inputs.containsKey("past_key_values." + layers + ".key")) {
        if (!inputs.containsKey("past_key_values." + layers + ".value")
            || !session.getOutputInfo().containsKey("present." + layers + ".key")
            || !session.getOutputInfo().containsKey("present." + layers + ".value")) {
          throw new IOException(modelFile + ": layer " + layers + " lacks past_key_values." + layers
              + ".value or its present.* outputs");
        }
        layers++;
      }
      if (layers == 0) {
        throw new IOException(modelFile + " has no past_key_values.0.key input: export it with past "
            + "(decoder-with-past layout, e.g. optimum's text-generation-with-past)");
      }
      TensorInfo cacheInfo = (TensorInfo) inputs.get("past_key_values.0.key").getInfo();
      if (cacheInfo.type != OnnxJavaType.FLOAT) {
        throw new IOException(modelFile + ": the KV cache is " + cacheInfo.type + "; only float32 caches are supported");
      }
      long[] cacheShape = cacheInfo.getShape();
      int heads = dim(cacheShape, 1, config, "num_key_value_heads", "num_attention_heads", "n_head");
      int headDim = cacheShape.length == 4 && cacheShape[3] > 0 ? (int) cacheShape[3] : headDimFromConfig(config);
      if (heads <= 0 || headDim <= 0) {
        throw new IOException(modelFile + ": cannot tell the cache's heads and head size from its shape "
            + Arrays.toString(cacheShape) + " or config.json");
      }
      int maxContext = firstPositive(DEFAULT_MAX_CONTEXT, config.getValue("n_positions"),
          config.getValue("max_position_embeddings"), tokenizerConfig.getValue("model_max_length"));
      tokenizer = TextTokenizer.load(tokenizerFile, tokenizerConfig, eosIds(generationConfig));
      return new TextModel(env, session, tokenizer, ChatTemplate.fromTokenizerConfig(tokenizerConfig),
          generationConfig, maxContext, layers, heads, headDim, inputs.containsKey("position_ids"));
    } catch (IOException | RuntimeException e) {
      if (tokenizer != null) {
        tokenizer.close();
      }
      session.close();
      throw e;
    }
  }

  static Path required(Path dir, String name) throws IOException {
    Path file = dir.resolve(name);
    if (!Files.isRegularFile(file)) {
      throw new IOException(file + " is missing: a model directory holds model.onnx and tokenizer.json");
    }
    return file;
  }

  static JsonObject optionalJson(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      return new JsonObject();
    }
    try {
      return new JsonObject(Files.readString(file));
    } catch (DecodeException e) {
      throw new IOException(file + " is not a JSON object: " + e.getMessage(), e);
    }
  }

  private static Set<Integer> eosIds(JsonObject generationConfig) {
    Set<Integer> ids = new LinkedHashSet<>();
    Object eos = generationConfig.getValue("eos_token_id");
    if (eos instanceof Number n) {
      ids.add(n.intValue());
    } else if (eos instanceof JsonArray array) {
      array.forEach(v -> ids.add(((Number) v).intValue()));
    }
    return ids;
  }

  private static int dim(long[] shape, int index, JsonObject config, String... keys) {
    if (shape.length == 4 && shape[index] > 0) {
      return (int) shape[index];
    }
    for (String key : keys) {
      if (config.getValue(key) instanceof Number n) {
        return n.intValue();
      }
    }
    return -1;
  }

  private static int headDimFromConfig(JsonObject config) {
    if (config.getValue("head_dim") instanceof Number n) {
      return n.intValue();
    }
    Object hidden = config.getValue("hidden_size") != null ? config.getValue("hidden_size") : config.getValue("n_embd");
    Object heads = config.getValue("num_attention_heads") != null ? config.getValue("num_attention_heads")
        : config.getValue("n_head");
    return hidden instanceof Number h && heads instanceof Number a ? h.intValue() / a.intValue() : -1;
  }

  /** Tokenizers often say model_max_length = 1e30 for "unknown": only believe sane values. */
  private static int firstPositive(int fallback, Object... values) {
    for (Object v : values) {
      if (v instanceof Number n && n.doubleValue() >= 1 && n.doubleValue() <= 10_000_000) {
        return n.intValue();
      }
    }
    return fallback;
  }

  public TextTokenizer tokenizer() {
    return tokenizer;
  }

  public ChatTemplate chatTemplate() {
    return chatTemplate;
  }

  /** {@code generation_config.json}, or empty. */
  public JsonObject generationConfig() {
    return generationConfig.copy();
  }

  /** Prompt plus generated tokens may not exceed this. */
  public int maxContext() {
    return maxContext;
  }

  public int layers() {
    return layers;
  }

  /** Key/value heads of the cache. */
  public int heads() {
    return heads;
  }

  public int headDim() {
    return headDim;
  }

  OrtEnvironment env() {
    return env;
  }

  OrtSession session() {
    return session;
  }

  /** The logits' last dimension when the model fixes it, else -1. */
  int logitsWidth() {
    return logitsWidth;
  }

  boolean hasPositionIds() {
    return hasPositionIds;
  }

  @Override
  public void close() throws OrtException {
    tokenizer.close();
    session.close();
  }
}
