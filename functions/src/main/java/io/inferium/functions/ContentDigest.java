package io.inferium.functions;

import io.inferium.functions.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * SHA-256 digests of a call's inputs and outputs for {@link CompletionEvent}: the same tensors or text give
 * the same hex digest on every node, so a verifier or a receipt can compare them without the content.
 *
 * <p>Tensors are hashed as, per tensor in order: name, data type, rank and dims, byte length, then the bytes
 * (each length-prefixed, so no two different lists hash alike). SHA-256 runs at roughly 0.5–1 GB/s, so
 * callers on an event loop hash large content on a worker thread (the engine's {@code Completions} does).
 */
public final class ContentDigest {

  private ContentDigest() {
  }

  /** The digest of tensors (inputs or outputs of a tensor call). */
  public static String tensors(List<Tensor> tensors) {
    MessageDigest md = sha256();
    ByteBuffer head = ByteBuffer.allocate(8);
    for (Tensor t : tensors) {
      string(md, t.name());
      string(md, t.type().name());
      md.update(head.clear().putLong(t.shape().length).flip());
      for (long dim : t.shape()) {
        md.update(head.clear().putLong(dim).flip());
      }
      ByteBuffer data = t.view();
      md.update(head.clear().putLong(data.remaining()).flip());
      md.update(data);
    }
    return HexFormat.of().formatHex(md.digest());
  }

  /** The digest of text parts (a prompt, each choice's text), each length-prefixed, in order. */
  public static String text(List<String> parts) {
    MessageDigest md = sha256();
    for (String s : parts) {
      string(md, s == null ? "" : s);
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private static void string(MessageDigest md, String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    md.update(ByteBuffer.allocate(8).putLong(b.length).flip());
    md.update(b);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }
}
