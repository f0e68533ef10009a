package io.inferium.chain;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;
import org.web3j.crypto.Credentials;

/**
 * A signing key in a file: one secp256k1 private key as 64 hex digits (optionally 0x-prefixed), surrounding
 * whitespace ignored. Errors name the file, never the key.
 */
public final class KeyFile {

  private static final Pattern KEY = Pattern.compile("(0x)?[0-9a-fA-F]{64}");

  private KeyFile() {
  }

  public static Credentials read(Path file) throws IOException {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8).strip();
    } catch (IOException e) {
      throw new IOException("key file " + file + ": cannot read it: " + e.getMessage(), e);
    }
    if (!KEY.matcher(text).matches()) {
      throw new IllegalArgumentException("key file " + file
          + ": expected one private key, 64 hex digits (0x optional), and nothing else");
    }
    return Credentials.create(text);
  }
}
