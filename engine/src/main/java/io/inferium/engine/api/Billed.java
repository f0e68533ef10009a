package io.inferium.engine.api;

/**
 * How an answer says whether it is billed. An answer leaves only after its usage event is durable in
 * the event log; when that append fails (log full, disk error, outbox unwritable) the answer still goes
 * out, free, marked {@code X-Inferium-Billed: false} (a streamed one, whose head is already out, ends
 * with the SSE comment {@link #SSE_UNBILLED} before {@code [DONE]}), and {@code inferium_usage_unbilled_total}
 * counts it.
 */
final class Billed {

  static final String HEADER = "X-Inferium-Billed";
  static final String SSE_UNBILLED = ": inferium-billed false (the usage of this answer could not be recorded; it is free)\n\n";

  private Billed() {
  }
}
