package io.inferium.functions.generation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TextModelTest {

  @Test
  void tinyGptDescribesItself() throws Exception {
    try (TextModel model = TextModelsFixture.loadGpt()) {
      assertEquals(256, model.maxContext());
      assertEquals(2, model.layers());
      assertEquals(4, model.heads());
      assertEquals(16, model.headDim());
      assertEquals(64, model.generationConfig().getInteger("max_new_tokens"));
      int eos = model.tokenizer().tokenId("<|endoftext|>").orElseThrow();
      int imEnd = model.tokenizer().tokenId("<|im_end|>").orElseThrow();
      assertTrue(model.tokenizer().eosTokenIds().containsAll(java.util.Set.of(eos, imEnd)),
          "generation_config's eos_token_id list joins the tokenizer's");
      assertTrue(!model.chatTemplate().isDefault());
    }
  }

  @Test
  void missingFilesAndWrongLayoutsSayWhat(@TempDir Path dir) throws Exception {
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
      OrtEnvironment env = OrtEnvironment.getEnvironment();
      IOException missing = assertThrows(IOException.class, () -> TextModel.load(env, dir, options));
      assertTrue(missing.getMessage().endsWith("model.onnx is missing: a model directory holds model.onnx and tokenizer.json"),
          missing.getMessage());
      // The encoder has input_ids and attention_mask but no logits and no cache.
      Files.copy(TextModelsFixture.TINY_EMBED.resolve("model.onnx"), dir.resolve("model.onnx"));
      Files.copy(TextModelsFixture.TINY_EMBED.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
      IOException layout = assertThrows(IOException.class, () -> TextModel.load(env, dir, options));
      assertTrue(layout.getMessage().contains("has no output 'logits'"), layout.getMessage());
    }
  }
}
