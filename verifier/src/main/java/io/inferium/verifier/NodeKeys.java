package io.inferium.verifier;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;

/**
 * A node's Ed25519 identity. The node id is derived from the public key ({@link #nodeIdOf}), so
 * identity is the key: a node that keeps its key file (private key mode 0600) is the same node
 * across restarts, and a local worker given a fresh key per spawn ({@link #generate}) starts with a
 * clean record. The public key travels in the hello (X.509, base64); signatures are base64.
 */
public final class NodeKeys {

  private static final String ALGORITHM = "Ed25519";

  private final KeyPair pair;

  private NodeKeys(KeyPair pair) {
    this.pair = pair;
  }

  /** Prefix of every node id; the rest is {@link #ID_HEX_CHARS} hex digits of the key's SHA-256. */
  public static final String ID_PREFIX = "n-";
  /** 16 hex digits = 64 bits of the key's SHA-256: collisions need ~2^32 keys. */
  public static final int ID_HEX_CHARS = 16;

  /** A fresh key pair that lives only in memory (a local worker's identity for one spawn). */
  public static NodeKeys generate() {
    try {
      return new NodeKeys(KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The node id of a public key (X.509, base64): {@code n-} and the first 16 hex digits of the SHA-256
   * of its DER bytes. Null for a missing or malformed key.
   */
  public static String nodeIdOf(String publicKey) {
    if (publicKey == null) {
      return null;
    }
    try {
      byte[] der = Base64.getDecoder().decode(publicKey);
      KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(der));
      byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(der);
      return ID_PREFIX + java.util.HexFormat.of().formatHex(digest).substring(0, ID_HEX_CHARS);
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      return null;
    }
  }

  /** This key's node id ({@link #nodeIdOf}). */
  public String nodeId() {
    return nodeIdOf(publicKey());
  }

  /** Loads the key pair from {@code file}, creating it on first use. Blocking. */
  public static NodeKeys loadOrCreate(Path file) throws IOException {
    try {
      KeyFactory factory = KeyFactory.getInstance(ALGORITHM);
      if (Files.exists(file)) {
        String[] parts = Files.readString(file, StandardCharsets.US_ASCII).strip().split("\n");
        PrivateKey priv = factory.generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(parts[0])));
        PublicKey pub = factory.generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(parts[1])));
        return new NodeKeys(new KeyPair(pub, priv));
      }
      KeyPair pair = KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair();
      Files.createDirectories(file.toAbsolutePath().getParent());
      Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
      Files.deleteIfExists(tmp);
      Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.writeString(tmp, Base64.getEncoder().encodeToString(pair.getPrivate().getEncoded()) + "\n"
          + Base64.getEncoder().encodeToString(pair.getPublic().getEncoded()) + "\n", StandardCharsets.US_ASCII);
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
      return new NodeKeys(pair);
    } catch (GeneralSecurityException | IllegalArgumentException | ArrayIndexOutOfBoundsException e) {
      throw new IOException("node key file " + file + " is unusable: " + e.getMessage(), e);
    }
  }

  /** The public key, X.509-encoded and base64. */
  public String publicKey() {
    return Base64.getEncoder().encodeToString(pair.getPublic().getEncoded());
  }

  /** Signs a message (its UTF-8 bytes). */
  public String sign(String message) {
    try {
      Signature s = Signature.getInstance(ALGORITHM);
      s.initSign(pair.getPrivate());
      s.update(message.getBytes(StandardCharsets.UTF_8));
      return Base64.getEncoder().encodeToString(s.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Whether {@code signature} is {@code publicKey}'s signature of {@code message}; false for anything malformed. */
  public static boolean verify(String publicKey, String message, String signature) {
    if (publicKey == null || signature == null) {
      return false;
    }
    try {
      PublicKey key = KeyFactory.getInstance(ALGORITHM)
          .generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(publicKey)));
      Signature s = Signature.getInstance(ALGORITHM);
      s.initVerify(key);
      s.update(message.getBytes(StandardCharsets.UTF_8));
      return s.verify(Base64.getDecoder().decode(signature));
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      return false;
    }
  }

  /** What a worker signs in its hello. */
  public static String helloMessage(String nodeId, long pid, String codeSha256, String token) {
    return "inferium-hello|" + nodeId + "|" + pid + "|" + codeSha256 + "|" + token;
  }

  /** What a worker signs for each result: the frame's correlation id, the model and the outputs' hash. */
  public static String resultMessage(long correlationId, String modelSha256, String outputSha256) {
    return "inferium-result|" + correlationId + "|" + modelSha256 + "|" + outputSha256;
  }
}
