package io.inferium.functions.generation;

import java.util.Objects;

/** One message of a chat conversation, as the chat template sees it. */
public record ChatMessage(String role, String content) {

  public ChatMessage {
    Objects.requireNonNull(role, "role");
    Objects.requireNonNull(content, "content");
  }
}
