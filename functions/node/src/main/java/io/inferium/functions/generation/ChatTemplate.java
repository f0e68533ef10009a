package io.inferium.functions.generation;

import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
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
 *
 * <p>A template is untrusted code: it renders in a {@link TemplateSandbox} (no file or template
 * loading, allow-listed tags, filters and methods, bounded output, work and time), so a hostile
 * one fails its own request with a {@link Failure} and cannot read the server's files or hold the
 * thread that renders it.
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
  private static final TemplateSandbox SANDBOX = new TemplateSandbox(TemplateSandbox.Limits.DEFAULT);

  private final Map<String, Object> specialTokens;
  private final TemplateSandbox sandbox;

  private ChatTemplate(String source, boolean isDefault, Map<String, Object> specialTokens, TemplateSandbox sandbox) {
    this.source = source;
    this.isDefault = isDefault;
    this.specialTokens = specialTokens;
    this.sandbox = sandbox;
  }

  private ChatTemplate(String source, boolean isDefault, Map<String, Object> specialTokens) {
    this(source, isDefault, specialTokens, SANDBOX);
  }

  /** A template from its Jinja source. */
  public static ChatTemplate of(String source) {
    return new ChatTemplate(source, false, Map.of());
  }

  /** A template rendered under other limits than the default (tests of the limits). */
  static ChatTemplate of(String source, TemplateSandbox.Limits limits) {
    return new ChatTemplate(source, false, Map.of(), new TemplateSandbox(limits));
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
   * Renders the conversation in the sandbox.
   *
   * @throws Failure when the template fails (syntax, a sandbox rule or limit, {@code raise_exception}), naming why
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
    if (source.contains("____int3rpr3t3r____")) {
      // Jinjava's name for its own interpreter object: no template has a reason to touch it.
      throw new Failure(FAILED + "the name ____int3rpr3t3r____ is not allowed in a chat template", false);
    }
    RenderResult result;
    String violation;
    try (TemplateSandbox.Budget budget = sandbox.open()) {
      try {
        result = sandbox.jinjava().renderForResult(source, context);
      } catch (TemplateSandbox.Violation e) {
        result = null;
      } catch (RuntimeException | StackOverflowError e) {
        throw new Failure(FAILED + (e instanceof StackOverflowError ? "the template nests too deeply" : e.getMessage()),
            false);
      }
      violation = budget.violation();
    }
    if (violation != null || result == null) {
      throw new Failure(FAILED + (violation != null ? violation : "the template broke a rule of the sandbox"), false);
    }
    List<TemplateError> fatal = result.getErrors().stream()
        .filter(e -> e.getSeverity() == TemplateError.ErrorType.FATAL).toList();
    for (TemplateError e : fatal) {
      TemplateRejection rejection = rejection(e);
      if (rejection != null) {
        throw new Failure(REFUSED + rejection.getMessage(), true);
      }
    }
    if (!fatal.isEmpty()) {
      String why = fatal.stream().map(this::describe).distinct().limit(5).collect(Collectors.joining("; "));
      throw new Failure(FAILED + (why.length() > 1000 ? why.substring(0, 1000) + "…" : why), false);
    }
    return result.getOutput();
  }

  private static final String FAILED = io.inferium.functions.TemplateErrors.FAILED;
  private static final String REFUSED = io.inferium.functions.TemplateErrors.REFUSED;

  private static TemplateRejection rejection(TemplateError e) {
    for (Throwable t = e.getException(); t != null; t = t.getCause()) {
      if (t instanceof TemplateRejection rejection) {
        return rejection;
      }
    }
    return null;
  }

  private String describe(TemplateError e) {
    if (e.getReason() == TemplateError.ErrorReason.OUTPUT_TOO_BIG) {
      return "the output exceeds " + sandbox.limits().maxOutputChars() + " characters";
    }
    if (e.getReason() == TemplateError.ErrorReason.DISABLED) {
      String name = String.valueOf(e.getFieldName()).replaceFirst("^(filter|exptest):", "");
      String what = switch (e.getItem()) {
        case TAG -> "the tag ";
        case FILTER -> "the filter ";
        case FUNCTION -> "the function ";
        default -> "";
      };
      return what + "'" + name + "' is not allowed in a chat template (no include, import, extends or "
          + "Jinjava extension; see docs/TEXT_MODELS.md)";
    }
    String where = e.getLineno() > 0 ? " (line " + e.getLineno() + ")" : "";
    return e.getMessage() + where;
  }

  /**
   * A template that could not render: {@link #refused()} when the template itself rejected the
   * conversation with {@code raise_exception} (its author's message), otherwise a syntax error or a
   * sandbox rule or limit. The message starts with {@code chat template failed: } or
   * {@code chat template refused the conversation: }.
   */
  public static final class Failure extends IllegalArgumentException {
    private final boolean refused;

    Failure(String message, boolean refused) {
      super(message);
      this.refused = refused;
    }

    public boolean refused() {
      return refused;
    }
  }

  /** True when an error message (as a worker reports it) is a template's own refusal of a conversation. */
  public static boolean isRefusal(String message) {
    return io.inferium.functions.TemplateErrors.isRefusal(message);
  }

  /** True when an error message (as a worker reports it) says the template failed (syntax, sandbox, limits). */
  public static boolean isFailure(String message) {
    return io.inferium.functions.TemplateErrors.isFailure(message);
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
