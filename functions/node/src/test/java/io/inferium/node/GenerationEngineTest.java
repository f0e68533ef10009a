package io.inferium.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.inferium.functions.SamplingParams;
import io.inferium.functions.generation.TextModel;
import io.inferium.functions.protocol.TokensFrame;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The worker's generation engine with the repo's tiny GPT, in process: a huge prompt is tokenized
 * off the decode thread, so another request decodes meanwhile; cancelling a request that has not
 * reached the decode loop is answered at once (the gateway's cancel grace never runs for it); a
 * prompt over the model's context is refused before any decode work, naming the field.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GenerationEngineTest {

  private static final Path TINY_GPT = Path.of("..", "src", "main", "resources", "models", "tiny-gpt");

  /** What the engine sent back, in order, with the time it was sent. */
  record Event(String kind, long requestId, String code, String message, long nanos) {}

  private final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
  private GenerationEngine engine;

  @BeforeAll
  void start() throws Exception {
    TextModel model;
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setIntraOpNumThreads(1);
      model = TextModel.load(OrtEnvironment.getEnvironment(), TINY_GPT, options);
    }
    engine = new GenerationEngine("0123456789abcdef".repeat(4), model, 4, 512, new GenerationEngine.Sink() {
      @Override
      public void tokens(List<TokensFrame.Token> tokens) {
        for (TokensFrame.Token t : tokens) {
          events.add(new Event("token", t.requestId(), null, null, System.nanoTime()));
        }
      }

      @Override
      public void done(long requestId, JsonObject meta, List<int[]> tokens) {
        events.add(new Event("done", requestId, null, meta.encode(), System.nanoTime()));
      }

      @Override
      public void error(long requestId, String code, String message) {
        events.add(new Event("error", requestId, code, message, System.nanoTime()));
      }
    });
  }

  @AfterAll
  void stop() {
    engine.close();
  }

  private static JsonObject request(String prompt, int maxTokens, boolean strict) {
    return new JsonObject().put("prompt", prompt).put("params", SamplingParams.greedy(maxTokens).toJson())
        .put("strict_context", strict);
  }

  /** The next end (done or error) of {@code requestId}, skipping tokens and other requests' events. */
  private Event end(long requestId) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      Event e = events.poll(100, TimeUnit.MILLISECONDS);
      if (e != null && e.requestId() == requestId && !e.kind().equals("token")) {
        return e;
      }
    }
    throw new AssertionError("request " + requestId + " never ended");
  }

  @Test
  void aHugePromptDelaysOnlyItselfAndItsCancelIsAnsweredAtOnce() throws Exception {
    events.clear();
    // 2 MiB: seconds of tokenizing (about 8 s per MiB on a loaded 2-core machine), far beyond the 2 s cancel grace.
    String huge = "All work and no play makes Jack a dull boy. ".repeat((2 << 20) / 44);
    assertTrue(engine.submit(1, request(huge, 4, false)));
    assertTrue(engine.submit(2, request("The license", 8, true)));
    long cancelled = System.nanoTime();
    assertTrue(engine.cancel(1));
    Event first = end(1);
    assertEquals("error", first.kind());
    assertEquals("cancelled", first.code(), first.message());
    long ackMs = TimeUnit.NANOSECONDS.toMillis(first.nanos() - cancelled);
    assertTrue(ackMs < 100, "a cancel before the decode loop is answered at once, took " + ackMs + " ms");
    Event other = end(2);
    assertEquals("done", other.kind(), String.valueOf(other));
    assertEquals(8, new JsonObject(other.message()).getInteger("completion_tokens"));
    // Nothing more comes for the cancelled request once its tokenization ends (it was answered already).
    assertTrue(engine.submit(3, request("Again", 2, true)));
    assertEquals("done", end(3).kind());
    assertEquals(0, events.stream().filter(e -> e.requestId() == 1).count(), "no second answer for request 1");
  }

  @Test
  void unloadingWhileAHugePromptIsTokenizedNeitherCrashesNorLosesTheAnswer() throws Exception {
    // A second engine with its own model: closing it frees the model, which the native tokenizer must not
    // be using at that moment (a freed tokenizer under a running encode aborts the process).
    LinkedBlockingQueue<String> ends = new LinkedBlockingQueue<>();
    TextModel model;
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      model = TextModel.load(OrtEnvironment.getEnvironment(), TINY_GPT, options);
    }
    GenerationEngine doomed = new GenerationEngine("fedcba9876543210".repeat(4), model, 4, 512, new GenerationEngine.Sink() {
      @Override
      public void tokens(List<TokensFrame.Token> tokens) {}

      @Override
      public void done(long requestId, JsonObject meta, List<int[]> tokens) {
        ends.add(requestId + " done");
      }

      @Override
      public void error(long requestId, String code, String message) {
        ends.add(requestId + " " + code);
      }
    });
    assertTrue(doomed.submit(1, request("All work and no play makes Jack a dull boy. ".repeat((1 << 20) / 44), 4, false)));
    TimeUnit.MILLISECONDS.sleep(50); // let the preparation thread enter the tokenizer
    doomed.close();
    assertEquals("1 cancelled", ends.poll(10, TimeUnit.SECONDS), "the unload answers the request at once");
    assertTrue(doomed.awaitClosed(TimeUnit.SECONDS.toMillis(70)), "the decode thread ends once tokenizing has");
    assertEquals(null, ends.poll(), "one answer only");
  }

  /** Token frames (each a list of the request ids its tokens belong to) of one generation run with {@code windowNanos}. */
  private static List<List<Long>> frames(long windowNanos, int maxTokens) throws Exception {
    return frames(windowNanos, new int[] {maxTokens}, null);
  }

  /**
   * Token frames of generations run together with {@code windowNanos}: request i + 1 generates {@code maxTokens[i]}
   * tokens; each frame is the list of the request ids its tokens belong to.
   */
  private static List<List<Long>> frames(long windowNanos, int[] maxTokens, Integer requestWindowMs) throws Exception {
    LinkedBlockingQueue<List<Long>> frames = new LinkedBlockingQueue<>();
    LinkedBlockingQueue<String> ends = new LinkedBlockingQueue<>();
    TextModel model;
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      options.setIntraOpNumThreads(1);
      model = TextModel.load(OrtEnvironment.getEnvironment(), TINY_GPT, options);
    }
    GenerationEngine windowed = new GenerationEngine("00112233445566778899aabbccddeeff".repeat(2), model, 4, 512,
        new GenerationEngine.Sink() {
          @Override
          public void tokens(List<TokensFrame.Token> tokens) {
            frames.add(tokens.stream().map(TokensFrame.Token::requestId).toList());
          }

          @Override
          public void done(long requestId, JsonObject meta, List<int[]> tokens) {
            ends.add("done " + meta.getInteger("completion_tokens"));
          }

          @Override
          public void error(long requestId, String code, String message) {
            ends.add(code + ": " + message);
          }
        }, windowNanos);
    try {
      for (int i = 0; i < maxTokens.length; i++) {
        JsonObject meta = request("The license", maxTokens[i], true);
        if (requestWindowMs != null) {
          meta.put("token_window_ms", requestWindowMs);
        }
        assertTrue(windowed.submit(i + 1, meta));
      }
      for (int i = 0; i < maxTokens.length; i++) {
        assertTrue(String.valueOf(ends.poll(60, TimeUnit.SECONDS)).startsWith("done "));
      }
      return List.copyOf(frames);
    } finally {
      windowed.close();
    }
  }

  @Test
  void aStreamsFirstTokenLeavesAloneAndTheRestWaitOutTheWindowOrTheEnd() throws Exception {
    // A window longer than the whole generation: the first token leaves at once (time to first token never
    // waits), every later one rides with the end, before the RESULT.
    List<List<Long>> held = frames(TimeUnit.HOURS.toNanos(1), 12);
    assertEquals(List.of(List.of(1L), java.util.Collections.nCopies(11, 1L)), held);
    // No window: one frame per decode step, as before the window existed.
    List<List<Long>> each = frames(0, 12);
    assertEquals(java.util.Collections.nCopies(12, List.of(1L)), each);
    // The function's window, sent with the request, rules over the worker's: here none, one frame per step.
    assertEquals(java.util.Collections.nCopies(12, List.of(1L)), frames(TimeUnit.HOURS.toNanos(1), new int[] {12}, 0));
    // And held tokens leave once due, without waiting for the end: 1 ms windows over a 40-token generation.
    List<List<Long>> due = frames(TimeUnit.HOURS.toNanos(1), new int[] {40}, 1);
    assertTrue(due.size() >= 3, "the first token, held tokens come due, the last ones: " + due);
  }

  @Test
  void oneStreamsFirstOrLastTokensLeaveWithoutTheOthersHeldTokens() throws Exception {
    // Two generations under a window longer than both: each first token leaves at once, the short one's end takes
    // only its own tokens, and the long one's held tokens stay held until its own end (one frame each).
    // (The long one runs for dozens of steps, so the short one starts and ends while it runs.)
    List<List<Long>> frames = frames(TimeUnit.HOURS.toNanos(1), new int[] {60, 4}, null);
    List<List<Long>> mixed = frames.stream().filter(f -> f.contains(1L) && f.contains(2L)).toList();
    assertTrue(mixed.stream().allMatch(f -> f.size() == 2), "only first tokens leave together: " + frames);
    List<List<Long>> later = frames.stream().filter(f -> !mixed.contains(f) && f.size() > 1).toList();
    assertEquals(java.util.Set.of(java.util.Collections.nCopies(3, 2L), java.util.Collections.nCopies(59, 1L)),
        java.util.Set.copyOf(later), "each end takes its own held tokens only: " + frames);
    assertEquals(64, frames.stream().mapToInt(List::size).sum(), "every token leaves once");
  }

  @Test
  void promptsBeyondTheContextAreRefusedBeforeAnyDecodeWork() throws Exception {
    events.clear();
    assertTrue(engine.submit(10, request("license ".repeat(400), 4, false)));
    Event tooLong = end(10);
    assertEquals("bad_input", tooLong.code(), String.valueOf(tooLong));
    assertTrue(tooLong.message().startsWith("field 'prompt'"), tooLong.message());
    assertTrue(tooLong.message().contains("context length is 256 tokens"), tooLong.message());

    assertTrue(engine.submit(11, request("The license", 300, true)));
    Event tooMany = end(11);
    assertEquals("bad_input", tooMany.code(), String.valueOf(tooMany));
    assertTrue(tooMany.message().startsWith("field 'max_tokens'"), tooMany.message());

    // The same max_tokens from a default (not the client's): decoding simply stops at the context.
    assertTrue(engine.submit(12, request("The license", 300, false)));
    Event ok = end(12);
    assertEquals("done", ok.kind(), String.valueOf(ok));
    assertNotNull(new JsonObject(ok.message()).getJsonArray("choices"));
  }
}
