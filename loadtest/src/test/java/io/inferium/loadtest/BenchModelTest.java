package io.inferium.loadtest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class BenchModelTest {

  @Test
  void modelsAreNamedAndShaped() {
    assertEquals(BenchModel.CNN, BenchModel.named("CNN"));
    assertEquals(3 * 32 * 32, BenchModel.CNN.rowElements());
    assertArrayEquals(new long[] {8, 3, 32, 32}, BenchModel.CNN.shape(8));
    assertArrayEquals(new long[] {1, 256}, BenchModel.MLP.shape(1));
    assertThrows(IllegalArgumentException.class, () -> BenchModel.named("resnet"));
  }

  @Test
  void binaryBodyCarriesTheWholeImage() {
    InferBody body = InferBody.binaryRow("x", BenchModel.CNN.shape(1), 1);
    int headerLength = Integer.parseInt(body.headers().get("Inference-Header-Content-Length"));
    JsonObject header = new JsonObject(body.bytes().getString(0, headerLength, StandardCharsets.UTF_8.name()));
    JsonObject input = header.getJsonArray("inputs").getJsonObject(0);
    assertEquals(List.of(1, 3, 32, 32), input.getJsonArray("shape").getList());
    assertEquals(4 * 3 * 32 * 32, input.getJsonObject("parameters").getInteger("binary_data_size"));
    assertEquals(headerLength + 4 * 3 * 32 * 32, body.bytes().length());
  }

  @Test
  void bundledModelsRunInProcess() throws Exception {
    for (BenchModel m : BenchModel.ALL) {
      Path file = Benchmark.extractModel(m);
      try {
        List<OrtCeiling.Point> points = new OrtCeiling(file, m.input(), m.rowShape())
            .measure(List.of(new OrtCeiling.Layout(1, 1)), List.of(2), Duration.ofMillis(200));
        assertTrue(points.get(0).rowsPerSecond() > 0, m + ": " + points);
      } finally {
        Files.deleteIfExists(file);
      }
    }
  }
}
