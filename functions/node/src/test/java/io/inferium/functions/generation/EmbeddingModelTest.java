package io.inferium.functions.generation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** tiny-embed with real ONNX Runtime: dimensions, normalisation and padding-independent pooling. */
class EmbeddingModelTest {

  private static final String SHORT = "Grant of Copyright License.";
  private static final String LONG = "Subject to the terms and conditions of this License, each Contributor hereby grants "
      + "to You a perpetual, worldwide, non-exclusive, no-charge, royalty-free, irrevocable copyright license.";

  private static EmbeddingModel model;

  @BeforeAll
  static void load() throws Exception {
    model = TextModelsFixture.loadEmbed();
  }

  @AfterAll
  static void close() throws Exception {
    model.close();
  }

  private static double norm(float[] v) {
    double sum = 0;
    for (float x : v) {
      sum += (double) x * x;
    }
    return Math.sqrt(sum);
  }

  @Test
  void vectorsHaveTheHiddenSizeAndCountTokens() throws Exception {
    EmbeddingModel.Embeddings e = model.embed(List.of(SHORT, LONG), "mean", false);
    assertEquals(2, e.vectors().length);
    assertEquals(64, e.vectors()[0].length);
    assertEquals(64, e.vectors()[1].length);
    int expected = model.tokenizer().encode(SHORT).length + model.tokenizer().encode(LONG).length;
    assertEquals(expected, e.promptTokens());
    assertEquals(256, model.maxContext());
  }

  @Test
  void normalizedVectorsHaveNormOne() throws Exception {
    for (String pooling : List.of("mean", "cls", "last")) {
      for (float[] v : model.embed(List.of(SHORT, LONG, "x"), pooling, true).vectors()) {
        assertEquals(1.0, norm(v), 1e-5, pooling);
      }
    }
  }

  @Test
  void poolingIgnoresPaddingAloneOrBatchedWithALongerInput() throws Exception {
    for (String pooling : List.of("mean", "cls", "last")) {
      float[] alone = model.embed(List.of(SHORT), pooling, false).vectors()[0];
      float[] batched = model.embed(List.of(LONG, SHORT), pooling, false).vectors()[1];
      assertArrayEquals(alone, batched, 1e-5f, pooling);
    }
  }

  @Test
  void poolingsDifferAndSimilarTextsAreCloserThanUnrelatedOnes() throws Exception {
    float[][] v = model.embed(List.of("the copyright license", "the copyright licence", "1234 5678 %%%"), "mean", true)
        .vectors();
    double near = dot(v[0], v[1]);
    double far = dot(v[0], v[2]);
    assertTrue(near > far, "near " + near + " far " + far);
    float[] mean = model.embed(List.of(LONG), "mean", false).vectors()[0];
    float[] cls = model.embed(List.of(LONG), "cls", false).vectors()[0];
    assertTrue(dot(mean, cls) / (norm(mean) * norm(cls)) < 0.9999);
  }

  private static double dot(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += (double) a[i] * b[i];
    }
    return s;
  }

  @Test
  void batchesLargerThanOneCallKeepTheirOrder() throws Exception {
    List<String> inputs = new ArrayList<>();
    for (int i = 0; i < EmbeddingModel.BATCH + 5; i++) {
      inputs.add(i % 2 == 0 ? SHORT : LONG);
    }
    float[][] v = model.embed(inputs, "mean", true).vectors();
    float[] shortAlone = model.embed(List.of(SHORT), "mean", true).vectors()[0];
    assertArrayEquals(shortAlone, v[EmbeddingModel.BATCH + 4], 1e-5f);
  }

  @Test
  void badInputsSayWhy() {
    IllegalArgumentException empty = assertThrows(IllegalArgumentException.class,
        () -> model.embed(List.of(SHORT, ""), "mean", true));
    assertEquals("input 1 is empty: it has no tokens to embed", empty.getMessage());
    IllegalArgumentException tooLong = assertThrows(IllegalArgumentException.class,
        () -> model.embed(List.of("word ".repeat(300)), "mean", true));
    int tokens = model.tokenizer().encode("word ".repeat(300)).length;
    assertEquals("input 0 has " + tokens + " tokens; this model reads at most 256", tooLong.getMessage());
    IllegalArgumentException pooling = assertThrows(IllegalArgumentException.class,
        () -> model.embed(List.of(SHORT), "max", true));
    assertEquals("pooling must be mean, cls or last, got 'max'", pooling.getMessage());
  }
}
