package io.inferium.functions;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.json.EncodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.json.jackson.JacksonCodec;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One answered function call: the single record that every downstream consumer reads (billing's usage
 * rows, the leaderboard's users, later verification and receipts). The gateway appends it durably to
 * the {@code inferium.completions} topic before the answer leaves; consumers derive what they need from
 * it, idempotently on {@link #requestId}, and never call back into the request path.
 *
 * <p>On the wire it is a CloudEvents 1.0 structured JSON object ({@link #toJson}) whose {@code data}
 * carries {@code schema_version} ({@value #SCHEMA_VERSION}). Fields are only ever added within a version;
 * a change that old readers would misread takes a new version number. Completion events written before
 * version 2 (no {@code schema_version}) were fire-and-forget copies, not the billed record: readers skip them
 * ({@link #schemaVersion}).
 *
 * @param requestId      the server-generated request id ({@code X-Inferium-Request-Id}); never taken from the client
 * @param tenantId       who is billed; null for platform keys
 * @param owner          the function's owner (the developer side of a revenue split)
 * @param modelSha256    the model artifact that answered
 * @param endpoint       which API answered: {@code v2.infer}, {@code completions}, {@code chat.completions},
 *                       {@code embeddings}, {@code arena}, {@code benchmark}
 * @param modality       what {@code units} count: {@code request} (tensor calls), {@code text} (tokens),
 *                       {@code arena} (one model's run in a battle), {@code benchmark} (dataset rows)
 * @param inputSha256    SHA-256 of the inputs as the worker received them (null where not applicable)
 * @param outputSha256   SHA-256 of the outputs as the client received them (null when nothing complete was sent)
 * @param workers        the workers whose result was used (their operators share the charge)
 * @param evidence       node ids, signatures or seals backing the result; its shape belongs to the verifier
 * @param verdict        the redundant-execution verdict, or null when the call was not verified
 * @param units          billed units of {@code modality}
 * @param computeUs      the worker compute billed to this call (its share of a batch)
 * @param chargeMicroUsd the charge announced to the client, in micro-dollars
 * @param timings        where the time went
 * @param detail         endpoint-specific figures (tokens, batch rows, whether a stream was cut short)
 */
public record CompletionEvent(String requestId, Instant at, String tenantId, String function, int version, String owner,
    String modelSha256, String endpoint, String modality, String inputSha256, String outputSha256, List<String> workers,
    JsonObject evidence, String verdict, Double similarity, long units, long computeUs, long chargeMicroUsd,
    Timings timings, JsonObject detail) {

  /** The CloudEvents {@code type}. */
  public static final String TYPE = "io.inferium.completion";
  /** The {@code data.schema_version} this code writes and the newest it reads. */
  public static final int SCHEMA_VERSION = 2;
  private static final String SOURCE = "inferium/gateway";
  /**
   * Thread-safe once configured; its generators recycle their buffers per thread. Characters outside the BMP are
   * written as UTF-8, as {@link JsonObject#encode()} writes them, not as escaped surrogate pairs.
   */
  private static final JsonFactory JSON = JsonFactory.builder()
      .enable(JsonWriteFeature.COMBINE_UNICODE_SURROGATES_IN_UTF8).build();

  /** Queue wait, worker compute (the whole batch's) and time from arrival to the answer, in microseconds. */
  public record Timings(long queueUs, long computeUs, long totalUs) {

    public static final Timings NONE = new Timings(0, 0, 0);
  }

  public CompletionEvent {
    Objects.requireNonNull(requestId, "requestId");
    Objects.requireNonNull(at, "at");
    Objects.requireNonNull(function, "function");
    Objects.requireNonNull(endpoint, "endpoint");
    Objects.requireNonNull(modality, "modality");
    workers = workers == null ? List.of() : List.copyOf(workers);
    evidence = evidence == null ? new JsonObject() : evidence;
    detail = detail == null ? new JsonObject() : detail;
    timings = timings == null ? Timings.NONE : timings;
    if (units < 0 || computeUs < 0 || chargeMicroUsd < 0) {
      throw new IllegalArgumentException("units, compute and charge must not be negative");
    }
  }

  /** A builder for the call of {@code fn} answered under {@code requestId}. */
  public static Builder builder(String requestId, FunctionRecord fn) {
    return new Builder(requestId, fn.name(), fn.version(), fn.owner(), fn.modelSha256());
  }

  /** A builder when only the function's coordinates are at hand. */
  public static Builder builder(String requestId, String function, int version, String owner, String modelSha256) {
    return new Builder(requestId, function, version, owner, modelSha256);
  }

  /** The event as appended (CloudEvents 1.0 structured JSON; schema in docs/ARCHITECTURE.md, "Completion events"). */
  public JsonObject toJson() {
    JsonObject data = new JsonObject()
        .put("schema_version", SCHEMA_VERSION)
        .put("tenant_id", tenantId).put("function", function).put("version", version).put("owner", owner)
        .put("model_sha256", modelSha256).put("endpoint", endpoint).put("modality", modality)
        .put("input_sha256", inputSha256).put("output_sha256", outputSha256)
        .put("workers", new JsonArray(new ArrayList<>(workers))).put("evidence", evidence.copy())
        .put("verdict", verdict).put("similarity", similarity)
        .put("units", units).put("compute_us", computeUs).put("charge_micro_usd", chargeMicroUsd)
        .put("timings", new JsonObject().put("queue_us", timings.queueUs()).put("compute_us", timings.computeUs())
            .put("total_us", timings.totalUs()))
        .put("detail", detail.copy());
    return new JsonObject().put("specversion", "1.0").put("id", requestId).put("source", SOURCE).put("type", TYPE)
        .put("time", IsoInstant.format(at)).put("subject", function).put("data", data);
  }

  /**
   * {@link #toJson()}'s JSON, the same fields in the same order, written straight to bytes: no tree is built and no
   * nested object copied. This is what the gateway appends once per answered request.
   */
  public Buffer toBuffer() {
    ByteBuf bytes = Unpooled.buffer(640);
    try (JsonGenerator g = JSON.createGenerator((OutputStream) new ByteBufOutputStream(bytes))) {
      g.writeStartObject();
      g.writeStringField("specversion", "1.0");
      g.writeStringField("id", requestId);
      g.writeStringField("source", SOURCE);
      g.writeStringField("type", TYPE);
      g.writeStringField("time", IsoInstant.format(at));
      g.writeStringField("subject", function);
      g.writeObjectFieldStart("data");
      g.writeNumberField("schema_version", SCHEMA_VERSION);
      g.writeStringField("tenant_id", tenantId);
      g.writeStringField("function", function);
      g.writeNumberField("version", version);
      g.writeStringField("owner", owner);
      g.writeStringField("model_sha256", modelSha256);
      g.writeStringField("endpoint", endpoint);
      g.writeStringField("modality", modality);
      g.writeStringField("input_sha256", inputSha256);
      g.writeStringField("output_sha256", outputSha256);
      g.writeArrayFieldStart("workers");
      for (String w : workers) {
        g.writeString(w);
      }
      g.writeEndArray();
      g.writeFieldName("evidence");
      JacksonCodec.encodeJson(evidence, g);
      g.writeStringField("verdict", verdict);
      g.writeFieldName("similarity");
      if (similarity == null) {
        g.writeNull();
      } else {
        g.writeNumber(similarity);
      }
      g.writeNumberField("units", units);
      g.writeNumberField("compute_us", computeUs);
      g.writeNumberField("charge_micro_usd", chargeMicroUsd);
      g.writeObjectFieldStart("timings");
      g.writeNumberField("queue_us", timings.queueUs());
      g.writeNumberField("compute_us", timings.computeUs());
      g.writeNumberField("total_us", timings.totalUs());
      g.writeEndObject();
      g.writeFieldName("detail");
      JacksonCodec.encodeJson(detail, g);
      g.writeEndObject();
      g.writeEndObject();
    } catch (IOException e) {
      throw new EncodeException("completion event " + requestId + ": " + e.getMessage());
    }
    return BufferInternal.buffer(bytes);
  }

  /**
   * The schema version of a completion event as stored: 1 for the unversioned events written before this
   * record existed, or the {@code data.schema_version} it carries. Fails when it is not a completion event.
   */
  public static int schemaVersion(JsonObject e) {
    if (!TYPE.equals(e.getString("type")) || !(e.getValue("data") instanceof JsonObject data)) {
      throw new IllegalArgumentException("not a completion event: type " + e.getValue("type"));
    }
    Object v = data.getValue("schema_version");
    if (v == null) {
      return 1;
    }
    if (!(v instanceof Number n) || n.intValue() < 2) {
      throw new IllegalArgumentException("data.schema_version: expected an integer >= 2, got " + v);
    }
    return n.intValue();
  }

  /**
   * Reads {@link #toJson()}'s form back. Fails on an unversioned (legacy) event or one newer than
   * {@link #SCHEMA_VERSION}; callers check {@link #schemaVersion} first to tell those apart from damage.
   */
  public static CompletionEvent fromJson(JsonObject e) {
    int schema = schemaVersion(e);
    if (schema != SCHEMA_VERSION) {
      throw new IllegalArgumentException("completion event schema " + schema + ", this reader knows " + SCHEMA_VERSION);
    }
    JsonObject d = e.getJsonObject("data");
    JsonObject t = d.getJsonObject("timings", new JsonObject());
    Number similarity = (Number) d.getValue("similarity");
    return new CompletionEvent(e.getString("id"), IsoInstant.parse(e.getString("time")), d.getString("tenant_id"),
        d.getString("function"), d.getInteger("version"), d.getString("owner"), d.getString("model_sha256"),
        d.getString("endpoint"), d.getString("modality"), d.getString("input_sha256"), d.getString("output_sha256"),
        d.getJsonArray("workers", new JsonArray()).stream().map(String::valueOf).toList(),
        d.getJsonObject("evidence"), d.getString("verdict"), similarity == null ? null : similarity.doubleValue(),
        d.getLong("units"), d.getLong("compute_us"), d.getLong("charge_micro_usd"),
        new Timings(t.getLong("queue_us", 0L), t.getLong("compute_us", 0L), t.getLong("total_us", 0L)),
        d.getJsonObject("detail"));
  }

  /** Assembles one event; every route that answers builds its event through this. */
  public static final class Builder {

    private final String requestId;
    private final String function;
    private final int version;
    private final String owner;
    private final String modelSha256;
    private Instant at = Instant.now();
    private String tenantId;
    private String endpoint;
    private String modality;
    private String inputSha256;
    private String outputSha256;
    private final List<String> workers = new ArrayList<>();
    private JsonObject evidence = new JsonObject();
    private String verdict;
    private Double similarity;
    private long units;
    private long computeUs;
    private long chargeMicroUsd;
    private Timings timings = Timings.NONE;
    private final JsonObject detail = new JsonObject();

    private Builder(String requestId, String function, int version, String owner, String modelSha256) {
      this.requestId = requestId;
      this.function = function;
      this.version = version;
      this.owner = owner;
      this.modelSha256 = modelSha256;
    }

    public Builder at(Instant at) {
      this.at = at;
      return this;
    }

    public Builder tenant(String tenantId) {
      this.tenantId = tenantId;
      return this;
    }

    /** Which API answered and what its units count. */
    public Builder endpoint(String endpoint, String modality) {
      this.endpoint = endpoint;
      this.modality = modality;
      return this;
    }

    public Builder inputSha256(String sha256) {
      this.inputSha256 = sha256;
      return this;
    }

    public Builder outputSha256(String sha256) {
      this.outputSha256 = sha256;
      return this;
    }

    /** A worker whose result was used (ignored when null: e.g. a stream cut short before any worker finished). */
    public Builder worker(String workerId) {
      if (workerId != null) {
        workers.add(workerId);
        evidence.put("workers", new JsonArray(new ArrayList<>(workers)));
      }
      return this;
    }

    /** Evidence fields (node ids, signatures, seals), merged into the evidence object. */
    public Builder evidence(JsonObject more) {
      evidence = evidence.copy().mergeIn(more);
      return this;
    }

    public Builder verdict(String verdict, Double similarity) {
      this.verdict = verdict;
      this.similarity = verdict == null ? null : similarity;
      return this;
    }

    /** What the call costs: {@code units} of the modality, the compute billed, the charge announced. */
    public Builder charge(long units, long computeUs, long chargeMicroUsd) {
      this.units = units;
      this.computeUs = computeUs;
      this.chargeMicroUsd = chargeMicroUsd;
      return this;
    }

    public Builder timings(long queueUs, long computeUs, long totalUs) {
      this.timings = new Timings(queueUs, computeUs, totalUs);
      return this;
    }

    /** One endpoint-specific figure. */
    public Builder detail(String key, Object value) {
      detail.put(key, value);
      return this;
    }

    public CompletionEvent build() {
      return new CompletionEvent(requestId, at, tenantId, function, version, owner, modelSha256, endpoint, modality,
          inputSha256, outputSha256, workers, evidence, verdict, similarity, units, computeUs, chargeMicroUsd, timings,
          detail);
    }
  }
}
