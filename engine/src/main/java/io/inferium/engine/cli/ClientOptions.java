package io.inferium.engine.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where the thin clients ({@code deploy}, {@code invoke}) find the server and their key. */
final class ClientOptions {

  @Option(names = "--server", defaultValue = "${env:INFERIUM_URL:-http://127.0.0.1:8080}", description = "Server URL (env INFERIUM_URL; default ${DEFAULT-VALUE}).")
  String server;

  @Option(names = "--key", defaultValue = "${env:INFERIUM_KEY}", description = "API key (env INFERIUM_KEY; default: the local <data-dir>/admin.key).")
  String key;

  String server() {
    return server.endsWith("/") ? server.substring(0, server.length() - 1) : server;
  }

  String key() throws IOException {
    if (key != null && !key.isBlank()) {
      return key;
    }
    String dir = System.getenv().getOrDefault("INFERIUM_DATA_DIR", ".inferium");
    Path file = Path.of(dir, "admin.key");
    if (Files.exists(file)) {
      return Files.readString(file, StandardCharsets.UTF_8).strip();
    }
    throw new IOException("no API key: pass --key, set INFERIUM_KEY, or run from the directory holding " + file);
  }
}
