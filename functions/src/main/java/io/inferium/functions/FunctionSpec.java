package io.inferium.functions;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What a developer says about a function when deploying it (the {@code spec} part of
 * {@code POST /api/functions}). Parsing is strict: an unknown field or a value of the wrong type is
 * an {@link InvalidSpecException} that names the field.
 *
 * @param version null means "the next integer after the latest version of this name"
 * @param batching null fields mean "derive from the model"
 * @param keepWarm  keep the model loaded on every worker instead of unloading it when idle
 * @param verification how results are checked: {@code none}, {@code redundant} on k workers, or {@code audit}
 * @param price     what a call costs, set by the developer (integer micro-dollars)
 * @param text      serving options of text-generation and embedding functions
 * @param examples  input sets the developer ships with the model ({@link ExampleInputs}): the deploy-time
 *                  smoke run uses them instead of synthesized inputs, and they are shown with the function
 * @param media     pre- and post-processing of an image function ({@link MediaOptions}); null for other kinds
 * @param placement the nodes it may run on ({@code requires}) and whether redundant copies need distinct operators
 */
public record FunctionSpec(
    String name,
    Integer version,
    FunctionKind kind,
    String category,
    List<String> useCases,
    String developer,
    String description,
    Visibility visibility,
    List<String> labels,
    Batching batching,
    int timeoutMs,
    boolean keepWarm,
    Verification verification,
    Price price,
    TextOptions text,
    List<JsonObject> examples,
    MediaOptions media,
    Placement placement) {

  public static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");
  public static final int DEFAULT_TIMEOUT_MS = 30_000;
  public static final int MAX_TIMEOUT_MS = 600_000;
  private static final Set<String> FIELDS = Set.of("name", "version", "kind", "category", "use_cases",
      "developer", "description", "visibility", "labels", "batching", "timeout_ms", "keep_warm", "verification", "price", "text", "examples",
      "preprocess", "postprocess", "requires");

  /** Who may see and invoke the function. */
  public enum Visibility { PUBLIC, PRIVATE }

  /**
   * A function's price, set by the developer, in integer micro-dollars: per request plus per
   * millisecond of worker compute for tensor functions; per 1,000 tokens (prompt and completion both
   * counted) for text functions, by default the platform list price of $0.003; per image for image
   * functions, by default the platform list price of $0.010; per audio minute ($0.003) and per video minute
   * ($0.10) for audio and video functions.
   */
  public record Price(long perRequestMicroUsd, long perComputeMsMicroUsd, long perThousandTokensMicroUsd,
      long perImageMicroUsd, long perAudioMinuteMicroUsd, long perVideoMinuteMicroUsd) {

    public static final long TEXT_PER_THOUSAND_TOKENS = 3_000;
    public static final long PER_IMAGE = 10_000;
    public static final long PER_AUDIO_MINUTE = 3_000;
    public static final long PER_VIDEO_MINUTE = 100_000;
    public static final Price DEFAULT = new Price(10, 0, TEXT_PER_THOUSAND_TOKENS, PER_IMAGE, PER_AUDIO_MINUTE, PER_VIDEO_MINUTE);
    private static final List<String> FIELDS = List.of("per_request_micro_usd", "per_compute_ms_micro_usd",
        "per_1k_tokens_micro_usd", "per_image_micro_usd", "per_audio_minute_micro_usd", "per_video_minute_micro_usd");

    public Price(long perRequestMicroUsd, long perComputeMsMicroUsd) {
      this(perRequestMicroUsd, perComputeMsMicroUsd, TEXT_PER_THOUSAND_TOKENS, PER_IMAGE, PER_AUDIO_MINUTE, PER_VIDEO_MINUTE);
    }

    public Price(long perRequestMicroUsd, long perComputeMsMicroUsd, long perThousandTokensMicroUsd) {
      this(perRequestMicroUsd, perComputeMsMicroUsd, perThousandTokensMicroUsd, PER_IMAGE, PER_AUDIO_MINUTE, PER_VIDEO_MINUTE);
    }

    /** The charge for {@code millis} milliseconds of audio, rounded up to a whole micro-dollar. */
    public long chargeAudioMillis(long millis) {
      return (Math.multiplyExact(perAudioMinuteMicroUsd, millis) + 59_999) / 60_000;
    }

    /** The charge for {@code millis} milliseconds of video, rounded up to a whole micro-dollar. */
    public long chargeVideoMillis(long millis) {
      return (Math.multiplyExact(perVideoMinuteMicroUsd, millis) + 59_999) / 60_000;
    }

    /** The charge for {@code images} images (an image function's call; compute is not charged on top). */
    public long chargeImages(long images) {
      return Math.multiplyExact(perImageMicroUsd, images);
    }

    /** The charge for one request whose share of worker compute was {@code computeUs}. */
    public long charge(long computeUs) {
      return perRequestMicroUsd + (perComputeMsMicroUsd * computeUs + 999) / 1000;
    }

    /** The charge for a text request that used this many tokens (rounded up to a whole micro-dollar). */
    public long chargeTokens(long tokens) {
      return (perThousandTokensMicroUsd * tokens + 999) / 1000;
    }

    JsonObject toJson() {
      return new JsonObject().put("per_request_micro_usd", perRequestMicroUsd).put("per_compute_ms_micro_usd", perComputeMsMicroUsd)
          .put("per_1k_tokens_micro_usd", perThousandTokensMicroUsd).put("per_image_micro_usd", perImageMicroUsd)
          .put("per_audio_minute_micro_usd", perAudioMinuteMicroUsd).put("per_video_minute_micro_usd", perVideoMinuteMicroUsd);
    }

    static Price fromJson(Object value) {
      if (value == null) {
        return DEFAULT;
      }
      if (!(value instanceof JsonObject p)) {
        throw new InvalidSpecException("field 'price': expected an object such as {\"per_request_micro_usd\": 100}, got " + value);
      }
      for (String field : p.fieldNames()) {
        if (!FIELDS.contains(field)) {
          throw new InvalidSpecException("field 'price': unknown field '" + field + "' (accepted: " + String.join(", ", FIELDS) + ")");
        }
      }
      Integer perRequest = integer(p, "per_request_micro_usd", 0, 100_000_000);
      Integer perMs = integer(p, "per_compute_ms_micro_usd", 0, 100_000_000);
      Integer perK = integer(p, "per_1k_tokens_micro_usd", 0, 100_000_000);
      Integer perImage = integer(p, "per_image_micro_usd", 0, 100_000_000);
      Integer perMinute = integer(p, "per_audio_minute_micro_usd", 0, 100_000_000);
      Integer perVideoMinute = integer(p, "per_video_minute_micro_usd", 0, 100_000_000);
      return new Price(perRequest == null ? DEFAULT.perRequestMicroUsd() : perRequest, perMs == null ? 0 : perMs,
          perK == null ? TEXT_PER_THOUSAND_TOKENS : perK, perImage == null ? PER_IMAGE : perImage,
          perMinute == null ? PER_AUDIO_MINUTE : perMinute, perVideoMinute == null ? PER_VIDEO_MINUTE : perVideoMinute);
    }
  }

  /**
   * Verification policy: {@code none}; {@code redundant} — each batch runs on {@code k} distinct
   * workers and the outputs must agree (cosine similarity of float outputs at least
   * {@code threshold}; exact equality otherwise) in a strict majority; or {@code audit} — one worker
   * answers at once and a fraction {@code auditFraction} of batches is re-run afterwards on other
   * workers, slashing the first one if it is outvoted (optimistic verification). {@code similarity}
   * (text generation only, null otherwise) lets unseeded generations be compared by meaning: see
   * {@link SemanticCheck}.
   */
  public record Verification(String policy, int k, double threshold, double auditFraction, SemanticCheck similarity) {

    public static final Verification NONE = new Verification("none", 1, 1.0, 0);
    public static final double DEFAULT_THRESHOLD = 0.999;

    public Verification(String policy, int k, double threshold, double auditFraction) {
      this(policy, k, threshold, auditFraction, null);
    }

    public boolean redundant() {
      return "redundant".equals(policy);
    }

    public boolean audit() {
      return "audit".equals(policy);
    }

    public JsonObject toJson() {
      JsonObject o = new JsonObject().put("policy", policy);
      if (redundant()) {
        o.put("k", k).put("threshold", threshold);
      } else if (audit()) {
        o.put("p", auditFraction).put("threshold", threshold);
      }
      if (similarity != null) {
        o.put("similarity", similarity.toJson());
      }
      return o;
    }

    /** The same policy judged at {@code threshold} (how the similarity's own threshold reaches the majority rule). */
    public Verification atThreshold(double threshold) {
      return new Verification(policy, k, threshold, auditFraction, similarity);
    }

    /** Parses a policy object (as in a spec or a request's {@code parameters.verification}); null means none. */
    public static Verification fromJson(Object value) {
      if (value == null) {
        return NONE;
      }
      if (!(value instanceof JsonObject v)) {
        throw new InvalidSpecException("field 'verification': expected an object such as {\"policy\": \"redundant\", \"k\": 3}, got " + value);
      }
      for (String field : v.fieldNames()) {
        if (!List.of("policy", "k", "p", "threshold", "similarity").contains(field)) {
          throw new InvalidSpecException("field 'verification': unknown field '" + field
              + "' (accepted: policy, k, p, threshold, similarity)");
        }
      }
      String policy = v.getValue("policy") instanceof String p ? p : null;
      SemanticCheck similarity = SemanticCheck.fromJson(v.getValue("similarity"));
      if ("none".equals(policy)) {
        if (similarity != null) {
          throw new InvalidSpecException("field 'verification.similarity': compares runs, so it needs policy redundant "
              + "or audit, not none");
        }
        return NONE;
      }
      if (!"redundant".equals(policy) && !"audit".equals(policy)) {
        throw new InvalidSpecException("field 'verification.policy': expected none | redundant | audit, got "
            + v.getValue("policy"));
      }
      Integer k = integer(v, "k", 2, 7);
      Object t = v.getValue("threshold");
      double threshold = DEFAULT_THRESHOLD;
      if (t != null) {
        if (!(t instanceof Number n) || n.doubleValue() <= 0 || n.doubleValue() > 1) {
          throw new InvalidSpecException("field 'verification.threshold': expected a number in (0, 1], got " + t);
        }
        threshold = n.doubleValue();
      }
      if ("audit".equals(policy)) {
        Object p = v.getValue("p");
        if (!(p instanceof Number n) || n.doubleValue() <= 0 || n.doubleValue() > 1) {
          throw new InvalidSpecException("field 'verification.p': expected the audited fraction, a number in (0, 1], got " + p);
        }
        return new Verification("audit", 1, threshold, ((Number) p).doubleValue(), similarity);
      }
      return new Verification("redundant", k == null ? 3 : k, threshold, 0, similarity);
    }
  }

  /**
   * How unseeded text generations are compared, since sampling without a seed makes honest runs differ token
   * by token: each run's text is embedded by the embedding function named {@code function} (its latest ready
   * version, called through the text scheduler under its own verification policy) and two runs agree when the
   * cosine of their embeddings is at least {@code threshold} for every choice. Seeded generations are still
   * compared exactly. docs/TEXT_MODELS.md, *Verification*.
   */
  public record SemanticCheck(String function, double threshold) {

    JsonObject toJson() {
      return new JsonObject().put("function", function).put("threshold", threshold);
    }

    static SemanticCheck fromJson(Object value) {
      if (value == null) {
        return null;
      }
      if (!(value instanceof JsonObject o)) {
        throw new InvalidSpecException("field 'verification.similarity': expected an object such as "
            + "{\"function\": \"my-embedder\", \"threshold\": 0.9}, got " + value);
      }
      for (String field : o.fieldNames()) {
        if (!List.of("function", "threshold").contains(field)) {
          throw new InvalidSpecException("field 'verification.similarity': unknown field '" + field
              + "' (accepted: function, threshold)");
        }
      }
      if (!(o.getValue("function") instanceof String name) || !NAME.matcher(name).matches()) {
        throw new InvalidSpecException("field 'verification.similarity.function': expected the name of an embedding "
            + "function (matching " + NAME.pattern() + "), got " + o.getValue("function"));
      }
      if (!(o.getValue("threshold") instanceof Number t) || !(t.doubleValue() > 0) || t.doubleValue() > 1) {
        throw new InvalidSpecException("field 'verification.similarity.threshold': expected the least cosine of two "
            + "agreeing runs' embeddings, a number in (0, 1], got " + o.getValue("threshold"));
      }
      return new SemanticCheck(name, t.doubleValue());
    }
  }

  /**
   * Dynamic batching and queueing settings; null means "derive from the model" (or the default).
   * {@code maxBatchSize} 0 means the model takes no batch dimension: never batch it.
   */
  public record Batching(Integer maxBatchSize, Integer maxQueueDelayMs, List<Integer> preferredBatchSizes,
      Integer maxQueueSize) {

    static final List<String> FIELDS = List.of("max_batch_size", "max_queue_delay_ms", "preferred_batch_sizes", "max_queue_size");

    JsonObject toJson() {
      JsonObject o = new JsonObject();
      if (preferredBatchSizes != null && !preferredBatchSizes.isEmpty()) {
        o.put("preferred_batch_sizes", new JsonArray(preferredBatchSizes));
      }
      if (maxQueueSize != null) {
        o.put("max_queue_size", maxQueueSize);
      }
      if (maxBatchSize != null) {
        o.put("max_batch_size", maxBatchSize);
      }
      if (maxQueueDelayMs != null) {
        o.put("max_queue_delay_ms", maxQueueDelayMs);
      }
      return o;
    }
  }

  public FunctionSpec {
    examples = examples == null ? List.of() : List.copyOf(examples);
  }

  /**
   * Refuses a policy the function's kind cannot use. Text generation and embeddings are verified under
   * {@code redundant(k)} and {@code audit(p)} (embeddings by cosine against {@code threshold}, seeded generations
   * by exact token ids, unseeded ones by the {@code similarity} embedder: docs/TEXT_MODELS.md, *Verification*);
   * only a text-generation function may name a {@code similarity} embedder (other kinds' outputs are compared
   * directly). Whether the named embedder exists and may be called is checked by the deploy route, which knows
   * the tenant. Checked when a version is deployed, not in {@link #fromJson}, so versions stored before the rule
   * still read.
   *
   * @throws InvalidSpecException naming the field and the kind
   */
  public void requireUsableVerification() {
    if (verification.similarity() != null && kind != FunctionKind.TEXT_GENERATION) {
      throw new InvalidSpecException("field 'verification.similarity': only text-generation functions are compared "
          + "by the meaning of their text; a " + kind.wire() + " function's outputs are compared directly (remove it)");
    }
  }

  public static FunctionSpec fromJson(JsonObject json) {
    if (json == null) {
      throw new InvalidSpecException("spec: expected a JSON object");
    }
    for (String field : json.fieldNames()) {
      if (!FIELDS.contains(field)) {
        throw new InvalidSpecException("spec: unknown field '" + field + "' (accepted: " + String.join(", ", FIELDS.stream().sorted().toList()) + ")");
      }
    }
    String name = string(json, "name");
    if (name == null || !NAME.matcher(name).matches()) {
      throw new InvalidSpecException("field 'name': must match " + NAME.pattern() + ", got "
          + (name == null ? "nothing" : "'" + name + "'"));
    }
    Integer version = integer(json, "version", 1, Integer.MAX_VALUE);
    String kindText = string(json, "kind");
    FunctionKind kind = kindText == null ? FunctionKind.TENSOR : FunctionKind.fromWire(kindText)
        .orElseThrow(() -> new InvalidSpecException("field 'kind': expected one of " + FunctionKind.accepted() + ", got '" + kindText + "'"));
    String visibilityText = string(json, "visibility");
    Visibility visibility;
    if (visibilityText == null || visibilityText.equals("public")) {
      visibility = Visibility.PUBLIC;
    } else if (visibilityText.equals("private")) {
      visibility = Visibility.PRIVATE;
    } else {
      throw new InvalidSpecException("field 'visibility': expected public | private, got '" + visibilityText + "'");
    }
    List<String> labels = strings(json, "labels");
    if (!labels.isEmpty() && kind != FunctionKind.CLASSIFIER && kind != FunctionKind.IMAGE_CLASSIFIER
        && kind != FunctionKind.AUDIO && kind != FunctionKind.VIDEO) {
      throw new InvalidSpecException("field 'labels': only a classifier, image-classifier, audio or video function has labels, "
          + "this function's kind is " + kind.wire());
    }
    MediaOptions.Parsed media = MediaOptions.parse(json, kind, labels);
    labels = media.labels();
    Batching batching = null;
    Object b = json.getValue("batching");
    if (b != null) {
      if (!(b instanceof JsonObject bo)) {
        throw new InvalidSpecException("field 'batching': expected an object, got " + b);
      }
      for (String field : bo.fieldNames()) {
        if (!Batching.FIELDS.contains(field)) {
          throw new InvalidSpecException("field 'batching': unknown field '" + field + "' (accepted: "
              + String.join(", ", Batching.FIELDS) + ")");
        }
      }
      Integer maxBatch = integer(bo, "max_batch_size", 0, 4096);
      List<Integer> preferred = new ArrayList<>();
      Object p = bo.getValue("preferred_batch_sizes");
      if (p != null) {
        if (!(p instanceof JsonArray pa)) {
          throw new InvalidSpecException("field 'batching.preferred_batch_sizes': expected an array of integers, got " + p);
        }
        for (int i = 0; i < pa.size(); i++) {
          Object v = pa.getValue(i);
          if (!(v instanceof Integer n) || n < 1 || (maxBatch != null && n > maxBatch)) {
            throw new InvalidSpecException("field 'batching.preferred_batch_sizes[" + i + "]': expected an integer in [1, "
                + (maxBatch == null ? 4096 : maxBatch) + "], got " + v);
          }
          preferred.add(n);
        }
      }
      batching = new Batching(maxBatch, integer(bo, "max_queue_delay_ms", 0, 60_000), List.copyOf(preferred),
          integer(bo, "max_queue_size", 1, 1_000_000));
    }
    Integer timeout = integer(json, "timeout_ms", 1, MAX_TIMEOUT_MS);
    // distinct_operators is placement, not the verification policy (which requests may also set): taken out here.
    Object verificationJson = json.getValue("verification");
    Object distinct = null;
    if (verificationJson instanceof JsonObject vo && vo.containsKey("distinct_operators")) {
      JsonObject rest = vo.copy();
      distinct = rest.remove("distinct_operators");
      verificationJson = rest;
    }
    Placement placement = Placement.fromJson(json.getValue("requires"), distinct);
    return new FunctionSpec(name, version, kind, string(json, "category"), strings(json, "use_cases"),
        string(json, "developer"), string(json, "description"), visibility, labels, batching,
        timeout == null ? DEFAULT_TIMEOUT_MS : timeout, bool(json, "keep_warm"),
        Verification.fromJson(verificationJson), Price.fromJson(json.getValue("price")),
        TextOptions.fromJson(json.getValue("text"), kind), ExampleInputs.parse(json.getValue("examples"), kind),
        media.media(), placement);
  }

  public JsonObject toJson() {
    JsonObject o = new JsonObject().put("name", name).put("kind", kind.wire())
        .put("visibility", visibility.name().toLowerCase(java.util.Locale.ROOT))
        .put("timeout_ms", timeoutMs)
        .put("keep_warm", keepWarm)
        .put("verification", verification.toJson())
        .put("price", price.toJson())
        .put("use_cases", new JsonArray(useCases))
        .put("labels", new JsonArray(labels));
    if (version != null) {
      o.put("version", version);
    }
    if (category != null) {
      o.put("category", category);
    }
    if (developer != null) {
      o.put("developer", developer);
    }
    if (description != null) {
      o.put("description", description);
    }
    if (batching != null) {
      o.put("batching", batching.toJson());
    }
    if (kind == FunctionKind.TEXT_GENERATION || kind == FunctionKind.EMBEDDING) {
      o.put("text", text.toJson());
    }
    if (!examples.isEmpty()) {
      o.put("examples", new JsonArray(List.copyOf(examples)));
    }
    if (media != null) {
      media.toJson(o);
    }
    if (placement.constrained()) {
      o.put("requires", placement.requiresJson());
    }
    if (!placement.distinctOperators()) {
      o.getJsonObject("verification").put("distinct_operators", false);
    }
    return o;
  }

  public FunctionSpec withVersion(int v) {
    return new FunctionSpec(name, v, kind, category, useCases, developer, description, visibility, labels, batching,
        timeoutMs, keepWarm, verification, price, text, examples, media, placement);
  }

  private static String string(JsonObject json, String field) {
    Object v = json.getValue(field);
    if (v == null) {
      return null;
    }
    if (!(v instanceof String s)) {
      throw new InvalidSpecException("field '" + field + "': expected a string, got " + v);
    }
    return s;
  }

  private static boolean bool(JsonObject json, String field) {
    Object v = json.getValue(field);
    if (v != null && !(v instanceof Boolean)) {
      throw new InvalidSpecException("field '" + field + "': expected true or false, got " + v);
    }
    return Boolean.TRUE.equals(v);
  }

  private static Integer integer(JsonObject json, String field, int min, int max) {
    Object v = json.getValue(field);
    if (v == null) {
      return null;
    }
    if (!(v instanceof Integer || v instanceof Long) || ((Number) v).longValue() < min || ((Number) v).longValue() > max) {
      throw new InvalidSpecException("field '" + field + "': expected an integer in [" + min + ", " + max + "], got " + v);
    }
    return ((Number) v).intValue();
  }

  private static List<String> strings(JsonObject json, String field) {
    Object v = json.getValue(field);
    if (v == null) {
      return List.of();
    }
    if (!(v instanceof JsonArray array)) {
      throw new InvalidSpecException("field '" + field + "': expected an array of strings, got " + v);
    }
    List<String> out = new ArrayList<>(array.size());
    for (int i = 0; i < array.size(); i++) {
      if (!(array.getValue(i) instanceof String s)) {
        throw new InvalidSpecException("field '" + field + "[" + i + "]': expected a string, got " + array.getValue(i));
      }
      out.add(s);
    }
    return List.copyOf(out);
  }
}
