package io.inferium.verifier;

import io.inferium.functions.seal.CodeChecksum;
import io.inferium.functions.seal.NodeKeys;
import io.inferium.functions.seal.ResultSeal;
import java.util.Optional;

/**
 * What a worker claims about itself and about each model it loads, and the gateway's judgement of
 * those claims. A failed attestation keeps the worker off the work it attested for.
 *
 * @param nodeId         the worker's node id
 * @param runtimeVersion ONNX Runtime version the worker runs
 * @param codeSha256     {@link CodeChecksum} of the worker's code
 * @param publicKey      the node's Ed25519 public key ({@link NodeKeys}), which signs its hello and the seals
 *                       over its results ({@link ResultSeal})
 */
public record Attestation(String nodeId, String runtimeVersion, String codeSha256, String publicKey) {

  /** Empty when the worker runs the expected code; otherwise why not. */
  public Optional<String> checkCode(String expectedCodeSha256) {
    if (codeSha256 == null || !codeSha256.equals(expectedCodeSha256)) {
      return Optional.of("worker " + nodeId + " runs code " + abbreviate(codeSha256)
          + ", the gateway expects " + abbreviate(expectedCodeSha256));
    }
    return Optional.empty();
  }

  /** Empty when the worker hashed the model it loaded to the expected sha256; otherwise why not. */
  public Optional<String> checkModel(String expectedSha256, String attestedSha256) {
    if (attestedSha256 == null || !attestedSha256.equals(expectedSha256)) {
      return Optional.of("worker " + nodeId + " loaded a model hashing to " + abbreviate(attestedSha256)
          + " instead of " + abbreviate(expectedSha256));
    }
    return Optional.empty();
  }

  private static String abbreviate(String sha) {
    return sha == null ? "nothing" : sha.substring(0, Math.min(12, sha.length()));
  }
}
