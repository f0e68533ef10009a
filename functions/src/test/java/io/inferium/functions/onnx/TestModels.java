package io.inferium.functions.onnx;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;

/** Where the models written by {@code src/test/python/make_models.py} are found. */
final class TestModels {

  private TestModels() {}

  /** A model from {@code src/test/resources/models}. */
  static Path model(String fileName) {
    URL url = TestModels.class.getResource("/models/" + fileName);
    if (url == null) {
      throw new IllegalArgumentException("no test model " + fileName + "; run make_models.py");
    }
    try {
      return Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A demo function shipped by the engine module, read from its source tree. */
  static Path demo(String fileName) {
    // Surefire runs with the module directory as the working directory.
    Path path = Path.of("..", "engine", "src", "main", "resources", "demo", fileName).toAbsolutePath().normalize();
    if (!Files.isRegularFile(path)) {
      throw new IllegalArgumentException("no demo model at " + path);
    }
    return path;
  }
}
