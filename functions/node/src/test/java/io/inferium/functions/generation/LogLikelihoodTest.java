package io.inferium.functions.generation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.SamplingParams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Continuation log-likelihoods against what the decode loop does with the same model. */
class LogLikelihoodTest {

  private static TextModel model;

  @BeforeAll
  static void load() throws Exception {
    model = TextModelsFixture.loadGpt();
  }

  @AfterAll
  static void close() throws Exception {
    model.close();
  }

  /** The greedy continuation the decode loop produces (no penalties), as text. */
  private static String greedy(String prompt, int tokens) throws Exception {
    Recorder recorder = new Recorder();
    DecodeLoop loop = new DecodeLoop(model, 1, 4096, true);
    loop.submit(1, model.tokenizer().encode(prompt), SamplingParams.greedy(tokens), recorder);
    while (loop.step()) {
      // until it ends
    }
    return recorder.get(1).text.toString();
  }

  @Test
  void theGreedyContinuationIsGreedyAndTheMostLikely() throws Exception {
    String context = "Permission is hereby granted, free of";
    String best = greedy(context, 1);
    LogLikelihood.Score top = LogLikelihood.score(model, context, best);
    assertEquals(1, top.tokens());
    assertTrue(top.greedy(), "'" + best + "' is what greedy decoding picks");
    assertTrue(top.logLikelihood() < 0);
    for (String other : new String[] {" the", " software", " License", " and"}) {
      if (!other.equals(best)) {
        LogLikelihood.Score s = LogLikelihood.score(model, context, other);
        assertFalse(s.greedy(), other);
        assertTrue(s.logLikelihood() < top.logLikelihood(), other + " " + s + " vs " + best + " " + top);
      }
    }
    String three = greedy(context, 3);
    LogLikelihood.Score longer = LogLikelihood.score(model, context, three);
    assertTrue(longer.greedy(), "'" + three + "'");
    assertTrue(longer.logLikelihood() < top.logLikelihood(), "more tokens, less probability");
  }

  @Test
  void logLikelihoodsAddUpAlongTheChain() throws Exception {
    String context = "Subject to the terms and conditions of this";
    double whole = LogLikelihood.score(model, context, " License, each").logLikelihood();
    double first = LogLikelihood.score(model, context, " License,").logLikelihood();
    double rest = LogLikelihood.score(model, context + " License,", " each").logLikelihood();
    assertEquals(whole, first + rest, 1e-4, "chain rule: P(a b | c) = P(a | c) P(b | c a)");
  }

  @Test
  void continuationsThatAddNothingAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> LogLikelihood.score(model, "", " the"));
    assertThrows(IllegalArgumentException.class, () -> LogLikelihood.score(model, "The License", ""));
  }
}
