package io.inferium.functions.generation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.SamplingParams;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The decode loop on tiny-gpt with real ONNX Runtime: cache, batching, sampling and finishing rules. */
class DecodeLoopTest {

  private static final List<String> PROMPTS = List.of(
      "The Licensor",
      "Inferium runs ONNX models as functions behind an OpenAI-compatible API, and each worker",
      "You may",
      "<|im_start|>user\nWhat does a worker do?<|im_end|>\n<|im_start|>assistant\n",
      "Subject to the terms and conditions of this License, each Contributor hereby grants to You");

  private static TextModel model;

  @BeforeAll
  static void load() throws Exception {
    model = TextModelsFixture.loadGpt();
  }

  @AfterAll
  static void close() throws Exception {
    model.close();
  }

  private static int[] ids(String text) {
    return model.tokenizer().encode(text);
  }

  /** Runs each (prompt, params) alone in its own loop. */
  private static Recorder.Result alone(String prompt, SamplingParams params, boolean kv) throws Exception {
    Recorder recorder = new Recorder();
    DecodeLoop loop = new DecodeLoop(model, 1, 4096, kv);
    loop.submit(1, ids(prompt), params, recorder);
    drain(loop);
    return recorder.get(1);
  }

  private static void drain(DecodeLoop loop) throws Exception {
    for (int guard = 0; loop.step(); guard++) {
      assertTrue(guard < 10_000, "the loop does not end");
    }
  }

  @Test
  void kvCacheGivesTheSameGreedyTokensAsRecomputing() throws Exception {
    for (String prompt : PROMPTS) {
      Recorder.Result cached = alone(prompt, SamplingParams.greedy(40), true);
      Recorder.Result reference = alone(prompt, SamplingParams.greedy(40), false);
      assertNull(cached.error);
      assertArrayEquals(reference.tokenArray(), cached.tokenArray(), "prompt: " + prompt);
      assertEquals(reference.text.toString(), cached.text.toString());
    }
  }

  @Test
  void greedyOutputReadsLikeTheCorpus() throws Exception {
    Recorder.Result r = alone("The Licensor", SamplingParams.greedy(24), true);
    String text = r.text.toString();
    System.out.println("tiny-gpt greedy: The Licensor" + text);
    long wordy = text.chars().filter(c -> Character.isLetter(c) || c == ' ').count();
    assertTrue(wordy > text.length() / 2, text);
  }

  @Test
  void continuousBatchGivesEachSequenceTheTokensItGetsAlone() throws Exception {
    Recorder recorder = new Recorder();
    DecodeLoop loop = new DecodeLoop(model, 8, 64, true);
    loop.submit(0, ids(PROMPTS.get(0)), SamplingParams.greedy(30), recorder);
    loop.submit(1, ids(PROMPTS.get(1)), SamplingParams.greedy(30), recorder);
    for (int i = 0; i < 5; i++) {
      loop.step();
    }
    // Joining mid-way: two sequences at once, one of them past the per-step prompt budget's share.
    loop.submit(2, ids(PROMPTS.get(2)), SamplingParams.greedy(30), recorder);
    loop.submit(3, ids(PROMPTS.get(3)), SamplingParams.greedy(30), recorder);
    loop.step();
    loop.step();
    loop.submit(4, ids(PROMPTS.get(4)), SamplingParams.greedy(30), recorder);
    drain(loop);
    for (int i = 0; i < PROMPTS.size(); i++) {
      Recorder.Result batched = recorder.get(i);
      assertNull(batched.error);
      assertEquals(30, batched.completionTokens);
      assertArrayEquals(alone(PROMPTS.get(i), SamplingParams.greedy(30), true).tokenArray(), batched.tokenArray(),
          "prompt " + i);
    }
  }

  @Test
  void maxRunningMakesSequencesWait() throws Exception {
    Recorder recorder = new Recorder();
    DecodeLoop loop = new DecodeLoop(model, 2, 4096, true);
    for (int i = 0; i < 3; i++) {
      loop.submit(i, ids(PROMPTS.get(i)), SamplingParams.greedy(3), recorder);
    }
    loop.step();
    assertEquals(2, loop.running());
    assertEquals(1, loop.waiting());
    drain(loop);
    assertEquals(0, loop.running());
    for (int i = 0; i < 3; i++) {
      assertEquals("length", recorder.get(i).finishReason);
    }
  }

  @Test
  void promptBudgetLimitsPrefillPerStepButNeverStarvesALongPrompt() throws Exception {
    Recorder recorder = new Recorder();
    int[] prompt = ids(PROMPTS.get(1));
    DecodeLoop loop = new DecodeLoop(model, 8, prompt.length + 1, true);
    for (int i = 0; i < 3; i++) {
      loop.submit(i, prompt, SamplingParams.greedy(4), recorder);
    }
    loop.step();
    assertEquals(1, loop.running(), "only one prompt fits the per-step budget");
    loop.step();
    assertEquals(2, loop.running());
    DecodeLoop tight = new DecodeLoop(model, 8, 1, true);
    tight.submit(9, prompt, SamplingParams.greedy(2), recorder);
    tight.step();
    assertEquals(1, tight.running(), "a prompt longer than the budget is admitted alone");
    drain(loop);
    drain(tight);
    assertEquals(2, recorder.get(9).completionTokens);
  }

  private static SamplingParams seeded(long seed) {
    return new SamplingParams(25, 1.0, 0.95, 40, List.of(), seed, 0.2, 0.2, 1.1, 1);
  }

  @Test
  void sameSeedSameTokensAloneOrBatchedAndDifferentSeedDifferentTokens() throws Exception {
    String prompt = PROMPTS.get(0);
    Recorder.Result first = alone(prompt, seeded(7), true);
    Recorder.Result again = alone(prompt, seeded(7), true);
    assertArrayEquals(first.tokenArray(), again.tokenArray());

    Recorder recorder = new Recorder();
    DecodeLoop loop = new DecodeLoop(model, 8, 4096, true);
    loop.submit(10, ids(PROMPTS.get(1)), seeded(99), recorder);
    loop.step();
    loop.submit(11, ids(prompt), seeded(7), recorder);
    loop.submit(12, ids(prompt), seeded(8), recorder);
    drain(loop);
    assertArrayEquals(first.tokenArray(), recorder.get(11).tokenArray(), "seed 7 batched with others");
    assertNotEquals(List.of(recorder.get(11).tokens), List.of(recorder.get(12).tokens), "seed 8 differs");
  }

  @Test
  void stopStringEndsGenerationAndIsNotInTheText() throws Exception {
    String prompt = PROMPTS.get(1);
    String full = alone(prompt, SamplingParams.greedy(40), true).text.toString();
    // A stop string from the middle of what greedy decoding writes.
    String stop = full.substring(full.length() / 2, full.length() / 2 + 3);
    int expectedEnd = full.indexOf(stop);
    SamplingParams params = new SamplingParams(40, 0, 1, 0, List.of("never-appears", stop), null, 0, 0, 1, 1);
    Recorder.Result r = alone(prompt, params, true);
    assertEquals("stop", r.finishReason);
    assertEquals(full.substring(0, expectedEnd), r.text.toString());
    assertFalse(r.text.toString().contains(stop));
    assertEquals(r.tokens.size(), r.completionTokens);
    assertTrue(r.completionTokens < 40);
  }

  @Test
  void heldBackTextIsFlushedWhenNoStopStringCompletes() throws Exception {
    String prompt = PROMPTS.get(1);
    String full = alone(prompt, SamplingParams.greedy(12), true).text.toString();
    // The text ends in the first character of a stop string that never completes.
    String stop = full.substring(full.length() - 1) + "\u0000never";
    Recorder.Result r = alone(prompt, new SamplingParams(12, 0, 1, 0, List.of(stop), null, 0, 0, 1, 1), true);
    assertEquals("length", r.finishReason);
    assertEquals(full, r.text.toString());
  }

  @Test
  void maxTokensEndsWithLengthAfterExactlyThatMany() throws Exception {
    Recorder.Result r = alone(PROMPTS.get(2), SamplingParams.greedy(7), true);
    assertEquals("length", r.finishReason);
    assertEquals(7, r.tokens.size());
    assertEquals(7, r.completionTokens);
    assertEquals(ids(PROMPTS.get(2)).length, r.promptTokens);
    assertEquals(model.tokenizer().decode(r.tokenArray()), r.text.toString());
  }

  @Test
  void fullContextEndsWithLength() throws Exception {
    int[] prompt = new int[model.maxContext() - 3];
    int[] unit = ids(" and the");
    for (int i = 0; i < prompt.length; i++) {
      prompt[i] = unit[i % unit.length];
    }
    Recorder recorder = new Recorder();
    DecodeLoop loop = new DecodeLoop(model, 4, 4096, true);
    loop.submit(1, prompt, SamplingParams.greedy(100), recorder);
    loop.submit(2, new int[model.maxContext()], SamplingParams.greedy(100), recorder);
    loop.submit(3, new int[model.maxContext() + 1], SamplingParams.greedy(100), recorder);
    drain(loop);
    assertEquals("length", recorder.get(1).finishReason);
    assertEquals(3, recorder.get(1).completionTokens);
    assertEquals("length", recorder.get(2).finishReason);
    assertEquals(0, recorder.get(2).completionTokens);
    Exception e = recorder.get(3).error;
    assertInstanceOf(IllegalArgumentException.class, e);
    assertTrue(e.getMessage().contains("prompt has " + (model.maxContext() + 1) + " tokens"), e.getMessage());
  }

  @Test
  void cancelEndsRunningAndWaitingSequences() throws Exception {
    Recorder recorder = new Recorder();
    DecodeLoop loop = new DecodeLoop(model, 1, 4096, true);
    loop.submit(1, ids(PROMPTS.get(0)), SamplingParams.greedy(50), recorder);
    loop.submit(2, ids(PROMPTS.get(1)), SamplingParams.greedy(50), recorder);
    loop.step();
    loop.step();
    loop.cancel(1);
    loop.cancel(2);
    loop.cancel(42);
    assertFalse(loop.step());
    assertEquals("cancelled", recorder.get(1).finishReason);
    assertEquals(2, recorder.get(1).completionTokens);
    assertEquals("cancelled", recorder.get(2).finishReason);
    assertEquals(0, recorder.get(2).completionTokens);
  }

  @Test
  void endOfSequenceTokenStops() throws Exception {
    // Hot sampling reaches an end-of-sequence token in some of these seeded sequences; which ones is fixed.
    Recorder recorder = new Recorder();
    DecodeLoop loop = new DecodeLoop(model, 16, 4096, true);
    for (int i = 0; i < 16; i++) {
      loop.submit(i, ids(PROMPTS.get(3)), new SamplingParams(64, 2.0, 1, 0, List.of(), (long) i, 0, 0, 1, 1), recorder);
    }
    drain(loop);
    List<Recorder.Result> stopped = recorder.results.values().stream().filter(r -> "stop".equals(r.finishReason)).toList();
    assertFalse(stopped.isEmpty(), "no sequence sampled an end-of-sequence token");
    for (Recorder.Result r : stopped) {
      assertTrue(model.tokenizer().eosTokenIds().contains(r.tokens.get(r.tokens.size() - 1)));
      assertTrue(r.completionTokens < 64);
      assertEquals(r.tokens.size(), r.completionTokens);
    }
  }

  @Test
  void throughputAtBatch1And16() throws Exception {
    int tokens = 48;
    // Best of three runs each: the first warms up the JIT and ONNX Runtime, and the machine is shared.
    double single = 0;
    double batched = 0;
    for (int run = 0; run < 3; run++) {
      single = Math.max(single, tokensPerSecond(1, tokens));
      batched = Math.max(batched, tokensPerSecond(16, tokens));
    }
    System.out.printf("tiny-gpt decode (KV cache, 1 intra-op thread, %d tokens each): batch 1: %.0f tokens/s, "
        + "batch 16: %.0f tokens/s%n", tokens, single, batched);
  }

  private static double tokensPerSecond(int batch, int tokens) throws Exception {
    Recorder recorder = new Recorder();
    DecodeLoop loop = new DecodeLoop(model, batch, 4096, true);
    for (int i = 0; i < batch; i++) {
      loop.submit(i, ids(PROMPTS.get(i % PROMPTS.size())), SamplingParams.greedy(tokens), recorder);
    }
    long start = System.nanoTime();
    drain(loop);
    double seconds = (System.nanoTime() - start) / 1e9;
    recorder.results.values().forEach(r -> assertEquals(tokens, r.completionTokens));
    return batch * tokens / seconds;
  }
}
