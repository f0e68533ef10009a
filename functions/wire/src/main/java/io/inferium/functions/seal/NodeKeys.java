package io.inferium.functions.seal;

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
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import org.bouncycastle.math.ec.rfc8032.Ed25519;

/**
 * A node's Ed25519 identity. The node id is derived from the public key ({@link #nodeIdOf}), so
 * identity is the key: a node that keeps its key file (private key mode 0600) is the same node
 * across restarts, and a local worker given a fresh key per spawn ({@link #generate}) starts with a
 * clean record. The public key travels in the hello (X.509, base64); signatures are base64.
 *
 * <p>Keys are generated, stored and encoded with the JDK (PKCS#8 / X.509, so key files and ids stay
 * as they were); signing and verifying use BouncyCastle's RFC 8032 code, which is several times
 * faster than the JDK provider and produces the same (deterministic) signatures. A {@link Verifier}
 * parses a public key once, for a link that checks many signatures by the same node.
 */
public final class NodeKeys {

  private static final String ALGORITHM = "Ed25519";

  private final KeyPair pair;
  private final byte[] rawPrivate;
  private final byte[] rawPublic;

  private NodeKeys(KeyPair pair) {
    this.pair = pair;
    this.rawPrivate = ((java.security.interfaces.EdECPrivateKey) pair.getPrivate()).getBytes()
        .orElseThrow(() -> new IllegalStateException("Ed25519 private key without its bytes"));
    this.rawPublic = rawPublic(pair.getPublic().getEncoded());
    if (rawPublic == null) {
      throw new IllegalStateException("not an Ed25519 public key");
    }
  }

  /** DER prefix of every X.509-encoded Ed25519 public key; the 32 raw key bytes follow it. */
  private static final byte[] X509_PREFIX = java.util.HexFormat.of().parseHex("302a300506032b6570032100");
  /** Length of an Ed25519 signature. */
  public static final int SIGNATURE_BYTES = Ed25519.SIGNATURE_SIZE;

  /**
   * The 32 raw bytes of a public key as hellos carry it (X.509, base64): what the on-chain NodeRegistry keys nodes by.
   * Null when {@code publicKey} is null or not an Ed25519 key.
   */
  public static byte[] rawPublicKey(String publicKey) {
    if (publicKey == null) {
      return null;
    }
    try {
      return rawPublic(Base64.getDecoder().decode(publicKey));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** The 32 raw bytes of an X.509 Ed25519 public key, or null when {@code der} is not one. */
  private static byte[] rawPublic(byte[] der) {
    if (der.length != X509_PREFIX.length + Ed25519.PUBLIC_KEY_SIZE
        || !java.util.Arrays.equals(der, 0, X509_PREFIX.length, X509_PREFIX, 0, X509_PREFIX.length)) {
      return null;
    }
    return java.util.Arrays.copyOfRange(der, X509_PREFIX.length, der.length);
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
    return Base64.getEncoder().encodeToString(sign(message.getBytes(StandardCharsets.UTF_8)));
  }

  /** Signs raw bytes; the 64-byte signature. Thread-safe. */
  public byte[] sign(byte[] message) {
    byte[] sig = new byte[Ed25519.SIGNATURE_SIZE];
    Ed25519.sign(rawPrivate, 0, rawPublic, 0, message, 0, message.length, sig, 0);
    return sig;
  }

  /**
   * Builds BouncyCastle's Ed25519 tables now. The first sign or verify does it otherwise (tens of milliseconds on
   * an idle machine, seconds on a loaded one): a gateway calls this on a worker thread at start, so the first
   * worker's hello is not checked on a cold path on its event loop.
   */
  public static void warmUp() {
    Ed25519.precompute();
  }

  /** Whether {@code signature} is {@code publicKey}'s signature of {@code message}; false for anything malformed. */
  public static boolean verify(String publicKey, String message, String signature) {
    Verifier v = Verifier.of(publicKey);
    if (v == null || signature == null) {
      return false;
    }
    try {
      return v.verify(message.getBytes(StandardCharsets.UTF_8), Base64.getDecoder().decode(signature));
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /**
   * One node's public key, parsed and validated once: a link verifies every seal of its worker with
   * it instead of decoding the key again per signature. Immutable and thread-safe.
   */
  public static final class Verifier {
    private final Ed25519.PublicPoint point;

    private Verifier(Ed25519.PublicPoint point) {
      this.point = point;
    }

    /** The verifier of an X.509 base64 public key; null for a missing, malformed or invalid key. */
    public static Verifier of(String publicKey) {
      if (publicKey == null) {
        return null;
      }
      try {
        byte[] raw = rawPublic(Base64.getDecoder().decode(publicKey));
        Ed25519.PublicPoint point = raw == null ? null : Ed25519.validatePublicKeyFullExport(raw, 0);
        return point == null ? null : new Verifier(point);
      } catch (IllegalArgumentException e) {
        return null;
      }
    }

    /** Whether {@code signature} (64 bytes) signs {@code message} under this key. */
    public boolean verify(byte[] message, byte[] signature) {
      return signature != null && signature.length == Ed25519.SIGNATURE_SIZE
          && Ed25519.verify(signature, 0, point, message, 0, message.length);
    }
  }

  /** What a worker signs in its hello. */
  public static String helloMessage(String nodeId, long pid, String codeSha256, String token) {
    return "inferium-hello|" + nodeId + "|" + pid + "|" + codeSha256 + "|" + token;
  }

  /**
   * What a remote node signs in its hello on the node port: the gateway's one-use nonce, the gateway's
   * identity as the node saw it (the SHA-256 fingerprint of the TLS certificate it connected to, so a
   * signature made for one gateway, or relayed through another certificate, is worthless elsewhere), its
   * own public key and id, and the code it runs.
   */
  public static String remoteHelloMessage(String nonce, String gatewayId, String publicKey, String nodeId, String codeSha256) {
    return "inferium-node-hello|" + nonce + "|" + gatewayId + "|" + publicKey + "|" + nodeId + "|" + codeSha256;
  }

  /** What a worker signs for each result: the frame's correlation id, the model and the outputs' hash. */
  public static String resultMessage(long correlationId, String modelSha256, String outputSha256) {
    return "inferium-result|" + correlationId + "|" + modelSha256 + "|" + outputSha256;
  }
}
