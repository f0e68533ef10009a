package io.inferium.functions.generation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Text deltas token by token, with the real byte-level tokenizer. */
class TextStreamTest {

  private static TextTokenizer tokenizer;

  @BeforeAll
  static void load() throws Exception {
    tokenizer = TextTokenizer.load(TextModelsFixture.TINY_GPT.resolve("tokenizer.json"), new JsonObject());
  }

  @AfterAll
  static void close() {
    tokenizer.close();
  }

  private static List<String> deltas(TextStream stream, String text) {
    List<String> out = new ArrayList<>();
    for (int id : tokenizer.encode(text)) {
      out.add(stream.push(id));
      if (stream.stopped()) {
        return out;
      }
    }
    out.add(stream.flush());
    return out;
  }

  @Test
  void incompleteUtf8IsHeldBackUntilTheCharacterIsWhole() {
    String text = "smile 🙂 and 日本";
    assertTrue(tokenizer.encode("🙂").length > 1, "the emoji spans several byte tokens");
    List<String> deltas = deltas(new TextStream(tokenizer, List.of()), text);
    assertEquals(text, String.join("", deltas));
    deltas.forEach(d -> assertFalse(d.contains("\uFFFD"), d));
  }

  @Test
  void stopStringIsNeverEmittedEvenInPart() {
    List<String> deltas = deltas(new TextStream(tokenizer, List.of("END!")), "The Work ENDS here; END! after");
    String text = String.join("", deltas);
    assertEquals("The Work ENDS here; ", text);
    deltas.forEach(d -> assertFalse(d.contains("END!")));
  }

  @Test
  void earliestOfSeveralStopStringsWins() {
    TextStream stream = new TextStream(tokenizer, List.of("zzz", "License", "Work"));
    List<String> deltas = deltas(stream, "under the License for the Work");
    assertTrue(stream.stopped());
    assertEquals("under the ", String.join("", deltas));
  }

  @Test
  void withoutStopStringsTextFlowsAsItComes() {
    TextStream stream = new TextStream(tokenizer, List.of());
    int[] ids = tokenizer.encode("plain words");
    StringBuilder seen = new StringBuilder();
    for (int id : ids) {
      seen.append(stream.push(id));
    }
    assertEquals("plain words", seen.toString());
    assertEquals("", stream.flush());
  }
}
