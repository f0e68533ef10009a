package io.inferium.functions;

/**
 * How a worker words a chat template's errors, so the gateway can tell them apart without linking the
 * template engine: a template's own refusal of a conversation ({@code raise_exception}, e.g. roles out
 * of order) versus a template that failed (syntax, sandbox rule, limits).
 */
public final class TemplateErrors {

  /** Prefix of a template's refusal of a conversation. */
  public static final String REFUSED = "chat template refused the conversation: ";
  /** Prefix of a template failure. */
  public static final String FAILED = "chat template failed: ";

  private TemplateErrors() {}

  /** True when an error message (as a worker reports it) is a template's own refusal of a conversation. */
  public static boolean isRefusal(String message) {
    return message != null && message.startsWith(REFUSED);
  }

  /** True when an error message (as a worker reports it) says the template failed (syntax, sandbox, limits). */
  public static boolean isFailure(String message) {
    return message != null && message.startsWith(FAILED);
  }
}
