package io.inferium.chain;

import io.inferium.functions.CompletionEvent;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.web3j.abi.datatypes.DynamicArray;
import org.web3j.abi.datatypes.Type;
import org.web3j.abi.datatypes.Utf8String;
import org.web3j.abi.datatypes.generated.Bytes32;
import org.web3j.abi.datatypes.generated.Uint16;
import org.web3j.abi.datatypes.generated.Uint32;
import org.web3j.abi.datatypes.generated.Uint64;
import org.web3j.crypto.Hash;

/**
 * What anyone may later check against a public chain about one answered request: which function and model
 * answered, digests of what went in and came out, which nodes ran it and the evidence backing their result,
 * the verification verdict and the charge. Built from the request's {@link CompletionEvent} (never on the request
 * path); its Merkle leaf ({@link #leaf}) is what an epoch's root commits to.
 *
 * <p>Leaf format {@value #FORMAT} is OpenZeppelin's StandardMerkleTree leaf over the ABI types
 * {@code (uint16 format, string requestId, string function, uint32 version, bytes32 modelSha256,
 * bytes32 inputSha256, bytes32 outputSha256, string[] nodes, bytes32 evidenceKeccak, string verdict,
 * uint64 units, uint64 chargeMicroUsd, uint64 answeredAtMicros)}: absent digests are zero, an absent verdict is
 * the empty string, {@code evidenceKeccak} is keccak256 of {@link #evidenceJson}'s UTF-8 bytes. A new format
 * takes a new number, so old leaves keep verifying.
 *
 * @param evidenceJson the completion event's evidence (node ids, signatures, seals) as canonical JSON: keys sorted
 *                     at every level, no whitespace; carried verbatim so a checker hashes these exact bytes
 */
public record Receipt(String requestId, String function, int version, String modelSha256, String inputSha256,
    String outputSha256, List<String> nodes, String evidenceJson, String verdict, long units, long chargeMicroUsd,
    Instant answeredAt) {

  /** The leaf format this code writes. */
  public static final int FORMAT = 1;
  /** The ABI types of a format-{@value #FORMAT} leaf, in order (for OpenZeppelin's JS library or cast). */
  public static final List<String> LEAF_TYPES = List.of("uint16", "string", "string", "uint32", "bytes32", "bytes32",
      "bytes32", "string[]", "bytes32", "string", "uint64", "uint64", "uint64");

  private static final byte[] ZERO = new byte[32];
  private static final HexFormat HEX = HexFormat.of();

  public Receipt {
    Objects.requireNonNull(requestId, "requestId");
    Objects.requireNonNull(function, "function");
    Objects.requireNonNull(answeredAt, "answeredAt");
    nodes = nodes == null ? List.of() : List.copyOf(nodes);
    evidenceJson = evidenceJson == null ? "{}" : evidenceJson;
    verdict = verdict == null ? "" : verdict;
    digest("modelSha256", modelSha256);
    digest("inputSha256", inputSha256);
    digest("outputSha256", outputSha256);
    if (version < 0 || units < 0 || chargeMicroUsd < 0) {
      throw new IllegalArgumentException("version, units and charge must not be negative");
    }
    if (answeredAt.isBefore(Instant.EPOCH)) {
      throw new IllegalArgumentException("answeredAt: expected 1970 or later, got " + answeredAt);
    }
  }

  /** The receipt of one answered request. */
  public static Receipt of(CompletionEvent event) {
    return new Receipt(event.requestId(), event.function(), event.version(), event.modelSha256(),
        event.inputSha256(), event.outputSha256(), event.workers(), canonicalJson(event.evidence()), event.verdict(),
        event.units(), event.chargeMicroUsd(), event.at().truncatedTo(ChronoUnit.MICROS));
  }

  /** The values the leaf hashes, as ABI types in {@link #LEAF_TYPES} order. */
  public List<Type> abiValues() {
    List<Utf8String> nodeNames = nodes.stream().map(Utf8String::new).toList();
    return List.of(new Uint16(FORMAT), new Utf8String(requestId), new Utf8String(function), new Uint32(version),
        new Bytes32(digest("modelSha256", modelSha256)), new Bytes32(digest("inputSha256", inputSha256)),
        new Bytes32(digest("outputSha256", outputSha256)), new DynamicArray<>(Utf8String.class, nodeNames),
        new Bytes32(Hash.sha3(evidenceJson.getBytes(StandardCharsets.UTF_8))), new Utf8String(verdict),
        new Uint64(units), new Uint64(chargeMicroUsd), new Uint64(answeredAtMicros()));
  }

  /**
   * {@code keccak256(bytes.concat(keccak256(abi.encode(abiValues()))))}: the receipt's leaf in an epoch's tree. Hashes
   * {@link #abiEncoded} (the same bytes web3j's encoder gives for {@link #abiValues}, without its hex detours).
   */
  public byte[] leaf() {
    return Hash.sha3(Hash.sha3(abiEncoded()));
  }

  /**
   * {@code abi.encode} of {@link #abiValues}, written out for this one fixed tuple: 13 head words (the four dynamic
   * values as offsets), then the tails of {@code requestId}, {@code function}, {@code nodes} and {@code verdict} in
   * that order. web3j's general encoder builds the same bytes through hex strings and {@code BigInteger}s, which made
   * it most of the gateway's receipt CPU; {@code ReceiptTest} checks both agree.
   */
  public byte[] abiEncoded() {
    byte[] id = requestId.getBytes(StandardCharsets.UTF_8);
    byte[] fn = function.getBytes(StandardCharsets.UTF_8);
    byte[] vd = verdict.getBytes(StandardCharsets.UTF_8);
    byte[][] names = new byte[nodes.size()][];
    int namesBytes = 0;
    for (int i = 0; i < names.length; i++) {
      names[i] = nodes.get(i).getBytes(StandardCharsets.UTF_8);
      namesBytes += stringBytes(names[i]);
    }
    int head = 13 * WORD;
    int idAt = head;
    int fnAt = idAt + stringBytes(id);
    int nodesAt = fnAt + stringBytes(fn);
    int vdAt = nodesAt + WORD + names.length * WORD + namesBytes;
    ByteBuffer out = ByteBuffer.allocate(vdAt + stringBytes(vd)); // zero-filled: padding and high bytes stay 0
    word(out, FORMAT);
    word(out, idAt);
    word(out, fnAt);
    word(out, version);
    out.put(digest("modelSha256", modelSha256)).put(digest("inputSha256", inputSha256))
        .put(digest("outputSha256", outputSha256));
    word(out, nodesAt);
    out.put(Hash.sha3(evidenceJson.getBytes(StandardCharsets.UTF_8)));
    word(out, vdAt);
    word(out, units);
    word(out, chargeMicroUsd);
    word(out, answeredAtMicros());
    string(out, id);
    string(out, fn);
    word(out, names.length);
    int offset = names.length * WORD; // element offsets count from the first offset word
    for (byte[] name : names) {
      word(out, offset);
      offset += stringBytes(name);
    }
    for (byte[] name : names) {
      string(out, name);
    }
    string(out, vd);
    return out.array();
  }

  private static final int WORD = 32;

  /** A string's tail: its length word, then its bytes padded with zeros to whole words. */
  private static int stringBytes(byte[] utf8) {
    return WORD + (utf8.length + WORD - 1) / WORD * WORD;
  }

  private static void string(ByteBuffer out, byte[] utf8) {
    word(out, utf8.length);
    out.put(utf8);
    out.position(out.position() + (WORD - utf8.length % WORD) % WORD);
  }

  /** A non-negative number (every uint here is at most 64 bits) as a big-endian word. */
  private static void word(ByteBuffer out, long value) {
    out.position(out.position() + WORD - Long.BYTES);
    out.putLong(value);
  }

  public long answeredAtMicros() {
    return ChronoUnit.MICROS.between(Instant.EPOCH, answeredAt);
  }

  /** The receipt as served and as a checker reads it back ({@link #fromJson}). */
  public JsonObject toJson() {
    return fieldsJson().put("leaf", "0x" + HEX.formatHex(leaf()));
  }

  /** {@link #toJson} without the {@code leaf} (which {@link #fromJson} ignores): what the ledger stores. */
  public JsonObject fieldsJson() {
    return new JsonObject().put("format", FORMAT).put("request_id", requestId).put("function", function)
        .put("version", version).put("model_sha256", modelSha256).put("input_sha256", inputSha256)
        .put("output_sha256", outputSha256).put("nodes", new JsonArray(new ArrayList<>(nodes)))
        .put("evidence_json", evidenceJson).put("verdict", verdict).put("units", units)
        .put("charge_micro_usd", chargeMicroUsd).put("answered_at_us", answeredAtMicros());
  }

  /**
   * Reads {@link #toJson}'s form (a receipt file may come from anyone: every field is checked and a bad one is named);
   * the {@code leaf} field, if present, is ignored (a checker recomputes it).
   */
  public static Receipt fromJson(JsonObject json) {
    Object format = json.getValue("format");
    if (!(format instanceof Number n) || n.longValue() != FORMAT) {
      throw new IllegalArgumentException("receipt format: expected " + FORMAT + ", got " + format);
    }
    long micros = number(json, "answered_at_us");
    long version = number(json, "version");
    if (version > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("receipt version: expected at most " + Integer.MAX_VALUE + ", got " + version);
    }
    Object nodes = json.getValue("nodes", new JsonArray());
    if (!(nodes instanceof JsonArray array) || !array.stream().allMatch(String.class::isInstance)) {
      throw new IllegalArgumentException("receipt nodes: expected an array of strings, got " + nodes);
    }
    return new Receipt(text(json, "request_id", true), text(json, "function", true), (int) version,
        text(json, "model_sha256", false), text(json, "input_sha256", false), text(json, "output_sha256", false),
        array.stream().map(String.class::cast).toList(), text(json, "evidence_json", true),
        text(json, "verdict", false), number(json, "units"), number(json, "charge_micro_usd"),
        Instant.EPOCH.plus(micros, ChronoUnit.MICROS));
  }

  private static String text(JsonObject json, String field, boolean required) {
    Object v = json.getValue(field);
    if (v == null && !required) {
      return null;
    }
    if (!(v instanceof String s)) {
      throw new IllegalArgumentException("receipt " + field + ": expected a string, got " + v);
    }
    return s;
  }

  private static long number(JsonObject json, String field) {
    Object v = json.getValue(field);
    if (!(v instanceof Number n) || n.doubleValue() != n.longValue() || n.longValue() < 0) {
      throw new IllegalArgumentException("receipt " + field + ": expected a non-negative integer, got " + v);
    }
    return n.longValue();
  }

  /** JSON with object keys sorted at every level and no whitespace, so equal evidence has equal bytes. */
  public static String canonicalJson(JsonObject object) {
    return new JsonObject(sorted(object.getMap())).encode();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> sorted(Map<String, Object> map) {
    Map<String, Object> out = new TreeMap<>();
    map.forEach((k, v) -> out.put(k, sortedValue(v)));
    return out;
  }

  @SuppressWarnings("unchecked")
  private static Object sortedValue(Object v) {
    if (v instanceof JsonObject o) {
      return new JsonObject(sorted(o.getMap()));
    }
    if (v instanceof Map<?, ?> m) {
      return new JsonObject(sorted((Map<String, Object>) m));
    }
    if (v instanceof JsonArray a) {
      return new JsonArray(a.getList().stream().map(Receipt::sortedValue).toList());
    }
    if (v instanceof List<?> l) {
      return new JsonArray(l.stream().map(Receipt::sortedValue).toList());
    }
    return v;
  }

  private static byte[] digest(String field, String hex) {
    if (hex == null) {
      return ZERO;
    }
    if (hex.length() != 64) {
      throw new IllegalArgumentException(field + ": expected 64 hex digits (SHA-256), got " + hex.length() + " characters");
    }
    try {
      return HEX.parseHex(hex);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(field + ": not hex: " + hex, e);
    }
  }
}
