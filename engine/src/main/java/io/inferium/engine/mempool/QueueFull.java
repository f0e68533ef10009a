package io.inferium.engine.mempool;

/** A function's queue is at its limit; the client should retry later (HTTP 429). */
public class QueueFull extends RuntimeException {
  public QueueFull(String message) {
    super(message, null, false, false);
  }
}
