package io.inferium.functions.generation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChatTemplateTest {

  private static final List<ChatMessage> CONVERSATION = List.of(
      new ChatMessage("system", "Be brief."), new ChatMessage("user", "What is Inferium?"));
  private static final String CHATML = "<|im_start|>system\nBe brief.<|im_end|>\n"
      + "<|im_start|>user\nWhat is Inferium?<|im_end|>\n";

  @Test
  void tinyGptTemplateRendersChatMl() throws Exception {
    JsonObject config = new JsonObject(Files.readString(TextModelsFixture.TINY_GPT.resolve("tokenizer_config.json")));
    ChatTemplate template = ChatTemplate.fromTokenizerConfig(config);
    assertEquals(false, template.isDefault());
    assertEquals(CHATML + "<|im_start|>assistant\n", template.render(CONVERSATION, true));
    assertEquals(CHATML, template.render(CONVERSATION, false));
  }

  @Test
  void defaultIsChatMl() {
    ChatTemplate template = ChatTemplate.fromTokenizerConfig(new JsonObject());
    assertTrue(template.isDefault());
    assertEquals(CHATML + "<|im_start|>assistant\n", template.render(CONVERSATION, true));
    assertEquals(CHATML, ChatTemplate.chatMl().render(CONVERSATION, false));
  }

  @Test
  void llamaStyleTemplateWithLoopsSpecialTokensAndTrimBlocks() {
    String source = """
        {{ bos_token }}
        {% for m in messages %}
        {% if m.role == 'user' %}[INST] {{ m.content | trim }} [/INST]{% else %}{{ m.content }}{{ eos_token }}{% endif %}
        {% endfor %}""";
    JsonObject config = new JsonObject().put("chat_template", source).put("bos_token", "<s>")
        .put("eos_token", new JsonObject().put("content", "</s>"));
    String out = ChatTemplate.fromTokenizerConfig(config).render(List.of(new ChatMessage("user", " hi "),
        new ChatMessage("assistant", "hello")), false);
    assertEquals("<s>[INST] hi [/INST]hello</s>", out.replace("\n", ""));
  }

  @Test
  void namedTemplatesPickDefault() {
    JsonObject config = new JsonObject().put("chat_template", new JsonArray()
        .add(new JsonObject().put("name", "tool_use").put("template", "tools"))
        .add(new JsonObject().put("name", "default").put("template", "{{ messages | length }}")));
    assertEquals("2", ChatTemplate.fromTokenizerConfig(config).render(CONVERSATION, false));
  }

  @Test
  void raiseExceptionBecomesIllegalArgument() {
    ChatTemplate template = ChatTemplate.of(
        "{% if messages[0]['role'] != 'user' %}{{ raise_exception('Conversation must start with a user message') }}{% endif %}ok");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> template.render(CONVERSATION, true));
    assertTrue(e.getMessage().contains("Conversation must start with a user message"), e.getMessage());
  }

  @Test
  void syntaxErrorSaysWhy() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ChatTemplate.of("{% for m in messages %}{{ m.content }}").render(CONVERSATION, true));
    assertTrue(e.getMessage().startsWith("chat template failed: "), e.getMessage());
  }
}
