package io.inferium.engine.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.engine.failure.DeadlineExceeded;
import io.inferium.engine.failure.QueueFull;
import io.inferium.engine.failure.WorkerFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the arena makes of its inputs, shows of embeddings, and says of a failed side. */
class ArenaInputsTest {

  @Test
  void anUploadedFileIsToldByItsFirstBytesAWebpBeingAnImageNotAClip() {
    java.nio.charset.Charset latin = java.nio.charset.StandardCharsets.ISO_8859_1;
    assertEquals(MediaUpload.Media.IMAGE, ArenaMedia.sniff("RIFF\0\0\0\0WEBPVP8 ".getBytes(latin), "audio/wav"));
    assertEquals(MediaUpload.Media.AUDIO, ArenaMedia.sniff("RIFF\0\0\0\0WAVEfmt ".getBytes(latin), null));
    assertEquals(MediaUpload.Media.VIDEO, ArenaMedia.sniff("RIFF\0\0\0\0AVI LIST".getBytes(latin), null));
    assertEquals(MediaUpload.Media.VIDEO, ArenaMedia.sniff("\0\0\0\u0018ftypmp42".getBytes(latin), null));
  }

  @Test
  void eachSideShowsCosineSimilaritiesAndNearestTexts() {
    double[][] sim = ArenaEmbeddings.similarity(new float[][] {{1, 0}, {2, 0.1f}, {0, 3}, {0, 0}});
    assertEquals(1.0, sim[0][0], 1e-12);
    assertEquals(2 / Math.sqrt(4.01), sim[0][1], 1e-6);
    assertEquals(sim[0][1], sim[1][0], 1e-12);
    assertEquals(0.0, sim[0][2], 1e-12);
    assertEquals(0.0, sim[3][0], 1e-12, "a zero vector is like nothing, not NaN");
    assertEquals(new JsonArray(List.of(1, 0, 1, 0)), ArenaEmbeddings.nearest(sim), "ties go to the lower index");
  }

  @Test
  void aFailedSideIsToldByItsLabelNeverByItsFunctionsError() {
    ApiError late = ArenaRoutes.concealed("B", new DeadlineExceeded("the generation did not finish within its deadline "
        + "(30000 ms for tiny-gpt@3)"));
    assertEquals(504, late.status());
    assertEquals("model B failed: it did not finish within its deadline; this battle cannot be voted on, start another",
        late.getMessage());
    ApiError refused = ArenaRoutes.concealed("A", new WorkerFailure("bad_input", "field 'max_tokens': 1000 + 5 prompt tokens "
        + "exceed the 256-token context of secret-model"));
    assertEquals(400, refused.status());
    assertFalse(refused.getMessage().contains("secret") || refused.getMessage().contains("256"), refused.getMessage());
    ApiError full = ArenaRoutes.concealed("C", new QueueFull("the queue of secret-model@1 is full", 2));
    assertEquals(429, full.status());
    assertEquals(2, full.retryAfterSeconds());
    assertFalse(full.getMessage().contains("secret"));
    assertEquals(400, ArenaRoutes.concealed("A", new ApiError(413, "too long for secret-model")).status());
  }

  @Test
  void textBattlesTakeAPromptOrMessagesAndSayWhatIsWrong() {
    assertEquals(new JsonObject().put("prompt", "hi"), ArenaText.work(new JsonObject().put("prompt", "hi").put("max_tokens", 3)));
    JsonObject chat = ArenaText.work(new JsonObject().put("messages", new JsonArray().add(new JsonObject()
        .put("role", "user").put("content", "hi").put("name", "dropped"))));
    assertEquals(new JsonArray().add(new JsonObject().put("role", "user").put("content", "hi")), chat.getJsonArray("messages"));
    assertTrue(assertThrows(ApiError.class, () -> ArenaText.work(new JsonObject().put("prompt", "a")
        .put("messages", new JsonArray()))).getMessage().contains("exactly one"));
    assertTrue(assertThrows(ApiError.class, () -> ArenaText.work(new JsonObject().put("prompt", " ")))
        .getMessage().startsWith("field 'input.prompt'"));
    assertTrue(assertThrows(ApiError.class, () -> ArenaText.work(new JsonObject().put("messages", new JsonArray()
        .add(new JsonObject().put("role", "user").put("content", "a")).add(new JsonObject().put("role", "robot")
            .put("content", "b"))))).getMessage().startsWith("field 'input.messages[1]'"));
    assertThrows(ApiError.class, () -> ArenaText.work(new JsonObject().put("messages", new JsonArray(
        Collections.nCopies(ArenaText.MAX_MESSAGES + 1, new JsonObject().put("role", "user").put("content", "a"))))));
  }

  @Test
  void embeddingBattlesTakeTwoToSixteenTexts() {
    assertEquals(List.of("a", "b"), ArenaEmbeddings.texts(new JsonObject().put("texts", new JsonArray().add("a").add("b"))));
    for (JsonArray bad : List.of(new JsonArray().add("a"), new JsonArray(Collections.nCopies(17, "a")),
        new JsonArray().add("a").add(""), new JsonArray().add("a").add(3), new JsonArray().add("a").add("x".repeat(2001)))) {
      ApiError e = assertThrows(ApiError.class, () -> ArenaEmbeddings.texts(new JsonObject().put("texts", bad)));
      assertEquals(400, e.status());
      assertTrue(e.getMessage().startsWith("field 'input.texts"), e.getMessage());
    }
  }
}
