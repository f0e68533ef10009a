package io.inferium.functions.generation;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The models written by {@code make_text_models.py}, read from the source tree. Surefire runs the
 * tests with {@code -Xss8m}, the stack ONNX Runtime needs (see docs/ARCHITECTURE.md).
 */
final class TextModelsFixture {

  static final Path TINY_GPT = dir("tiny-gpt");
  static final Path TINY_EMBED = dir("tiny-embed");

  private TextModelsFixture() {}

  private static Path dir(String name) {
    Path path = Path.of("..", "src", "main", "resources", "models", name);
    if (!Files.isDirectory(path)) {
      throw new IllegalStateException(path.toAbsolutePath() + " is missing: run functions/src/main/python/make_text_models.py");
    }
    return path;
  }

  static TextModel loadGpt() throws OrtException, IOException {
    try (OrtSession.SessionOptions options = options()) {
      return TextModel.load(OrtEnvironment.getEnvironment(), TINY_GPT, options);
    }
  }

  static EmbeddingModel loadEmbed() throws OrtException, IOException {
    try (OrtSession.SessionOptions options = options()) {
      return EmbeddingModel.load(OrtEnvironment.getEnvironment(), TINY_EMBED, options);
    }
  }

  private static OrtSession.SessionOptions options() throws OrtException {
    OrtSession.SessionOptions options = new OrtSession.SessionOptions();
    options.setIntraOpNumThreads(1);
    options.setInterOpNumThreads(1);
    return options;
  }
}
