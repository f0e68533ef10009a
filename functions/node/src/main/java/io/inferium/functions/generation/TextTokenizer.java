package io.inferium.functions.generation;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A Hugging Face {@code tokenizer.json} run by the Rust tokenizers library (through DJL). It never
 * adds special tokens, truncates or pads: the decode loop and the chat template decide the token
 * sequence. Special tokens written in the text itself (e.g. {@code <|im_end|>}) are still matched,
 * as in Hugging Face's own tokenizers.
 */
public final class TextTokenizer implements AutoCloseable {

  /** Tried in this order when {@code tokenizer_config.json} names no {@code eos_token}. */
  private static final List<String> FALLBACK_EOS = List.of("<|endoftext|>", "</s>", "<|eot_id|>", "<eos>");

  private final HuggingFaceTokenizer tokenizer;
  private final Map<String, Integer> tokenIds;
  private final Set<Integer> specialIds;
  private final Set<Integer> eosIds;
  private final Integer padId;
  private final int vocabSize;

  private TextTokenizer(HuggingFaceTokenizer tokenizer, Map<String, Integer> tokenIds, Set<Integer> specialIds,
      Set<Integer> eosIds, Integer padId, int vocabSize) {
    this.tokenizer = tokenizer;
    this.tokenIds = tokenIds;
    this.specialIds = specialIds;
    this.eosIds = eosIds;
    this.padId = padId;
    this.vocabSize = vocabSize;
  }

  /**
   * Loads {@code tokenizer.json}; {@code tokenizerConfig} is the parsed {@code tokenizer_config.json}
   * (may be empty) and names the end-of-sequence token.
   */
  public static TextTokenizer load(Path tokenizerJson, JsonObject tokenizerConfig) throws IOException {
    return load(tokenizerJson, tokenizerConfig, Set.of());
  }

  /** As {@link #load(Path, JsonObject)}, with more end-of-sequence ids (from {@code generation_config.json}). */
  static TextTokenizer load(Path tokenizerJson, JsonObject tokenizerConfig, Set<Integer> extraEos) throws IOException {
    JsonObject json;
    try {
      json = new JsonObject(Files.readString(tokenizerJson));
    } catch (DecodeException e) {
      throw new IOException(tokenizerJson + " is not JSON: " + e.getMessage(), e);
    }
    Map<String, Integer> ids = new HashMap<>();
    Set<Integer> special = new LinkedHashSet<>();
    JsonObject model = json.getJsonObject("model", new JsonObject());
    JsonObject vocab = model.getValue("vocab") instanceof JsonObject v ? v : new JsonObject();
    vocab.forEach(e -> ids.put(e.getKey(), ((Number) e.getValue()).intValue()));
    if (model.getValue("vocab") instanceof JsonArray unigram) {
      // Unigram models list [piece, score] pairs; the id is the position.
      for (int i = 0; i < unigram.size(); i++) {
        ids.put(unigram.getJsonArray(i).getString(0), i);
      }
    }
    JsonArray added = json.getJsonArray("added_tokens", new JsonArray());
    for (int i = 0; i < added.size(); i++) {
      JsonObject token = added.getJsonObject(i);
      ids.put(token.getString("content"), token.getInteger("id"));
      if (token.getBoolean("special", false)) {
        special.add(token.getInteger("id"));
      }
    }
    if (ids.isEmpty()) {
      throw new IOException(tokenizerJson + " has no vocabulary (model.vocab and added_tokens are empty)");
    }
    int vocabSize = ids.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;

    Set<Integer> eos = new LinkedHashSet<>();
    Optional<String> eosToken = tokenString(tokenizerConfig.getValue("eos_token"));
    if (eosToken.isPresent()) {
      Integer id = ids.get(eosToken.get());
      if (id == null) {
        throw new IOException("tokenizer_config.json names eos_token '" + eosToken.get() + "', which "
            + tokenizerJson.getFileName() + " does not contain");
      }
      eos.add(id);
    } else {
      FALLBACK_EOS.stream().map(ids::get).filter(id -> id != null).findFirst().ifPresent(eos::add);
    }
    eos.addAll(extraEos);
    Integer pad = tokenString(tokenizerConfig.getValue("pad_token")).map(ids::get).orElse(null);

    // Explicit options: no added special tokens, no truncation or padding, whatever tokenizer.json says.
    Map<String, String> options = Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false");
    HuggingFaceTokenizer tokenizer;
    try {
      tokenizer = HuggingFaceTokenizer.newInstance(tokenizerJson, options);
    } catch (RuntimeException e) {
      throw new IOException("the tokenizers library rejected " + tokenizerJson + ": " + e.getMessage(), e);
    }
    return new TextTokenizer(tokenizer, Map.copyOf(ids), Collections.unmodifiableSet(special),
        Collections.unmodifiableSet(eos), pad, vocabSize);
  }

  /** A token in {@code tokenizer_config.json} is a string or, in older files, {"content": "..."}. */
  private static Optional<String> tokenString(Object value) {
    if (value instanceof String s) {
      return Optional.of(s);
    }
    if (value instanceof JsonObject o && o.getValue("content") instanceof String s) {
      return Optional.of(s);
    }
    return Optional.empty();
  }

  /** Token ids of {@code text}; adds no special tokens. */
  public int[] encode(String text) {
    long[] ids = tokenizer.encode(text, false, false).getIds();
    int[] out = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = (int) ids[i];
    }
    return out;
  }

  /** Text of {@code ids}, skipping special tokens. */
  public String decode(int[] ids) {
    return decode(ids, ids.length);
  }

  /** Text of the first {@code count} ids, skipping special tokens. */
  String decode(int[] ids, int count) {
    return decode(ids, 0, count);
  }

  /** Text of {@code ids[from, to)}, skipping special tokens. */
  String decode(int[] ids, int from, int to) {
    long[] longs = new long[to - from];
    for (int i = from; i < to; i++) {
      longs[i - from] = ids[i];
    }
    return tokenizer.decode(longs, true);
  }

  /** Ids that end a sequence: {@code eos_token} of the tokenizer config plus the generation config's. */
  public Set<Integer> eosTokenIds() {
    return eosIds;
  }

  /** One more than the largest token id. */
  public int vocabSize() {
    return vocabSize;
  }

  /** The id of a token string (vocabulary or added token), if it has one. */
  public Optional<Integer> tokenId(String token) {
    return Optional.ofNullable(tokenIds.get(token));
  }

  /** Ids of the added tokens marked special. */
  public Set<Integer> specialTokenIds() {
    return specialIds;
  }

  /** The padding id: {@code pad_token}, else the first end-of-sequence id, else 0. */
  public int padTokenId() {
    if (padId != null) {
      return padId;
    }
    return eosIds.isEmpty() ? 0 : eosIds.iterator().next();
  }

  @Override
  public void close() {
    tokenizer.close();
  }
}
