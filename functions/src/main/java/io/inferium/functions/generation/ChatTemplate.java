package io.inferium.functions.generation;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A Hugging Face chat template: the Jinja {@code chat_template} of {@code tokenizer_config.json},
 * rendered with {@code messages}, {@code add_generation_prompt}, {@code bos_token},
 * {@code eos_token} and {@code raise_exception(message)} in scope, with Jinja's
 * {@code trim_blocks} and {@code lstrip_blocks} on as in transformers. Without a template the
 * {@linkplain #CHATML ChatML default} is used.
 */
public final class ChatTemplate {

  /**
   * The default: ChatML, {@code <|im_start|>role\ncontent<|im_end|>\n} per message and
   * {@code <|im_start|>assistant\n} as the generation prompt.
   */
  public static final String CHATML = """
      {% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}""";

  private final String source;
  private final boolean isDefault;
  private final Map<String, Object> specialTokens;
  private final Jinjava jinjava;

  private ChatTemplate(String source, boolean isDefault, Map<String, Object> specialTokens) {
    this.source = source;
    this.isDefault = isDefault;
    this.specialTokens = specialTokens;
    this.jinjava = new Jinjava(JinjavaConfig.newBuilder().withTrimBlocks(true).withLstripBlocks(true).build());
    jinjava.getGlobalContext().registerFunction(
        new ELFunctionDefinition("", "raise_exception", ChatTemplate.class, "raiseException", String.class));
  }

  /** A template from its Jinja source. */
  public static ChatTemplate of(String source) {
    return new ChatTemplate(source, false, Map.of());
  }

  /** The ChatML default. */
  public static ChatTemplate chatMl() {
    return new ChatTemplate(CHATML, true, Map.of());
  }

  /**
   * From a parsed {@code tokenizer_config.json}: its {@code chat_template} (a string, or a list of
   * {@code {name, template}} where the one named {@code default} wins), else the ChatML default.
   */
  public static ChatTemplate fromTokenizerConfig(JsonObject tokenizerConfig) {
    Map<String, Object> tokens = new HashMap<>();
    for (String key : List.of("bos_token", "eos_token", "pad_token", "unk_token")) {
      Object value = tokenizerConfig.getValue(key);
      if (value instanceof JsonObject o) {
        value = o.getValue("content");
      }
      tokens.put(key, value instanceof String s ? s : "");
    }
    Object template = tokenizerConfig.getValue("chat_template");
    if (template instanceof JsonArray named) {
      template = null;
      for (int i = 0; i < named.size(); i++) {
        JsonObject entry = named.getJsonObject(i);
        if (template == null || "default".equals(entry.getString("name"))) {
          template = entry.getString("template");
        }
      }
    }
    if (template instanceof String s && !s.isBlank()) {
      return new ChatTemplate(s, false, tokens);
    }
    return new ChatTemplate(CHATML, true, tokens);
  }

  /** The Jinja source. */
  public String source() {
    return source;
  }

  /** True when the model brought no template and ChatML is used. */
  public boolean isDefault() {
    return isDefault;
  }

  /**
   * Renders the conversation.
   *
   * @throws IllegalArgumentException when the template fails (syntax, {@code raise_exception}), naming why
   */
  public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
    List<Map<String, Object>> list = new ArrayList<>(messages.size());
    for (ChatMessage m : messages) {
      Map<String, Object> map = new LinkedHashMap<>();
      map.put("role", m.role());
      map.put("content", m.content());
      list.add(map);
    }
    Map<String, Object> context = new HashMap<>(specialTokens);
    context.put("messages", list);
    context.put("add_generation_prompt", addGenerationPrompt);
    RenderResult result;
    try {
      result = jinjava.renderForResult(source, context);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("chat template failed: " + e.getMessage(), e);
    }
    List<TemplateError> fatal = result.getErrors().stream()
        .filter(e -> e.getSeverity() == TemplateError.ErrorType.FATAL).toList();
    if (!fatal.isEmpty()) {
      throw new IllegalArgumentException("chat template failed: "
          + fatal.stream().map(ChatTemplate::describe).collect(Collectors.joining("; ")));
    }
    return result.getOutput();
  }

  private static String describe(TemplateError e) {
    // raise_exception's message is the template author's explanation: prefer it to Jinjava's wrapper text.
    for (Throwable t = e.getException(); t != null; t = t.getCause()) {
      if (t instanceof TemplateRejection rejection) {
        return rejection.getMessage();
      }
    }
    String where = e.getLineno() > 0 ? " (line " + e.getLineno() + ")" : "";
    return e.getMessage() + where;
  }

  /** Templates call {@code raise_exception('...')} to reject a conversation (e.g. roles out of order). */
  public static String raiseException(String message) {
    throw new TemplateRejection(message);
  }

  /** Thrown from inside a template by {@code raise_exception}. */
  static final class TemplateRejection extends RuntimeException {
    TemplateRejection(String message) {
      super(message);
    }
  }
}
