package io.inferium.functions.generation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The generated tokenizer.json, loaded by the Rust tokenizers library through DJL. */
class TextTokenizerTest {

  private static TextTokenizer tokenizer;

  @BeforeAll
  static void load() throws IOException {
    JsonObject config = new JsonObject(Files.readString(TextModelsFixture.TINY_GPT.resolve("tokenizer_config.json")));
    tokenizer = TextTokenizer.load(TextModelsFixture.TINY_GPT.resolve("tokenizer.json"), config);
  }

  @AfterAll
  static void close() {
    tokenizer.close();
  }

  @ParameterizedTest
  @ValueSource(strings = {"Licensed under the Apache License, Version 2.0.", "  leading and trailing spaces  ",
      "tabs\tand\nnew lines\r\n", "naïve café — ünïcödé 日本語 🙂", "x", "1234567890 + 42 = ?", "don't won't they're"})
  void roundTrips(String text) {
    int[] ids = tokenizer.encode(text);
    assertTrue(ids.length > 0);
    assertEquals(text, tokenizer.decode(ids));
  }

  @Test
  void learnedMergesMakeCommonWordsSingleTokens() {
    assertEquals(1, tokenizer.encode(" the").length);
    assertTrue(tokenizer.encode("License").length <= 2, "a frequent corpus word takes at most two tokens");
  }

  @Test
  void specialTokensAreMatchedButNotAddedAndDecodeSkipsThem() {
    int imEnd = tokenizer.tokenId("<|im_end|>").orElseThrow();
    int[] ids = tokenizer.encode("hi<|im_end|>");
    assertEquals(imEnd, ids[ids.length - 1]);
    assertEquals("hi", tokenizer.decode(ids));
    assertEquals(0, tokenizer.encode("").length);
  }

  @Test
  void vocabularyAndEndOfSequence() {
    assertEquals(640, tokenizer.vocabSize());
    int eos = tokenizer.tokenId("<|endoftext|>").orElseThrow();
    assertTrue(tokenizer.eosTokenIds().contains(eos));
    assertTrue(tokenizer.specialTokenIds().contains(eos));
    assertEquals(eos, tokenizer.padTokenId());
  }

  @Test
  void longTextIsNotTruncated() {
    String text = "word ".repeat(2000);
    int[] ids = tokenizer.encode(text);
    assertTrue(ids.length >= 2000, "got " + ids.length);
    assertArrayEquals(ids, tokenizer.encode(tokenizer.decode(ids)));
  }
}
