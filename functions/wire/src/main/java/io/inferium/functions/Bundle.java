package io.inferium.functions;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A text function's files (the ONNX model, its tokenizer and configuration) as one content-addressed
 * unit: a small JSON manifest naming each file by sha256. The manifest is itself a blob, and its hash
 * is the function's {@code model_sha256}, so a worker that attests the manifest's hash and checks each
 * file against it has proved it loaded exactly what was deployed.
 */
public record Bundle(Map<String, Part> files) {

  public static final String FORMAT = "inferium-bundle/1";
  public static final String MODEL = "model.onnx";
  public static final String TOKENIZER = "tokenizer.json";
  /** The files a bundle may hold, by the name the loader expects; the first two are required. */
  public static final List<String> NAMES = List.of(MODEL, TOKENIZER, "tokenizer_config.json", "generation_config.json");

  /** One file of a bundle. */
  public record Part(String sha256, long bytes) {}

  public Bundle {
    files = new TreeMap<>(files);
  }

  public long totalBytes() {
    return files.values().stream().mapToLong(Part::bytes).sum();
  }

  /** The canonical manifest (sorted keys), so equal bundles have equal hashes. */
  public String toJson() {
    JsonObject f = new JsonObject();
    files.forEach((name, part) -> f.put(name, new JsonObject().put("sha256", part.sha256()).put("bytes", part.bytes())));
    return new JsonObject().put("format", FORMAT).put("files", f).encode();
  }

  /** The hash the manifest gets when stored (what {@link ModelBlobs#ingestBundle} returns). */
  public String sha256() {
    try {
      return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
          .digest(toJson().getBytes(StandardCharsets.UTF_8)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Reads a manifest file; IOException when it is not one. */
  public static Bundle read(Path manifest) throws IOException {
    if (Files.size(manifest) > 64 * 1024) {
      throw new IOException("not a bundle manifest: " + Files.size(manifest) + " bytes");
    }
    JsonObject o;
    try {
      o = new JsonObject(Files.readString(manifest, StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      throw new IOException("not a bundle manifest: " + e.getMessage());
    }
    if (!FORMAT.equals(o.getString("format"))) {
      throw new IOException("not a bundle manifest: format is " + o.getValue("format") + ", expected " + FORMAT);
    }
    Map<String, Part> files = new TreeMap<>();
    JsonObject f = o.getJsonObject("files", new JsonObject());
    for (String name : f.fieldNames()) {
      if (!NAMES.contains(name)) {
        throw new IOException("bundle manifest names an unexpected file '" + name + "'");
      }
      JsonObject p = f.getJsonObject(name);
      files.put(name, new Part(p.getString("sha256"), p.getLong("bytes", 0L)));
    }
    if (!files.containsKey(MODEL) || !files.containsKey(TOKENIZER)) {
      throw new IOException("bundle manifest lacks " + MODEL + " or " + TOKENIZER);
    }
    return new Bundle(files);
  }
}
