package io.inferium.infra.events;

/** An append refused because too many appends are already waiting to be written. */
public final class EventLogFullException extends RuntimeException {

  public EventLogFullException(String message) {
    super(message, null, false, false);
  }
}
