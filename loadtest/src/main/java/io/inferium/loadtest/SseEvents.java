package io.inferium.loadtest;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads Server-Sent Events as they arrive: bytes go in by network read, and every event that is
 * complete (ended by a blank line) comes out as its {@code data} payload, several {@code data:}
 * lines joined by a newline. Comments, other fields and events without data are skipped. An event
 * split across reads is held until its blank line arrives; so is a UTF-8 character split across
 * reads, since decoding waits for the whole event. Lines may end in LF or CRLF.
 */
final class SseEvents {

  private byte[] pending = new byte[256];
  private int size;

  /** The data of each event that {@code bytes} completes, in order; none while an event is still open. */
  List<String> feed(byte[] bytes) {
    ensure(size + bytes.length);
    System.arraycopy(bytes, 0, pending, size, bytes.length);
    size += bytes.length;
    List<String> events = new ArrayList<>();
    int start = 0;
    int lineStart = 0;
    for (int i = 0; i < size; i++) {
      if (pending[i] != '\n') {
        continue;
      }
      int lineEnd = i > lineStart && pending[i - 1] == '\r' ? i - 1 : i;
      if (lineEnd == lineStart) {
        String data = data(start, lineStart);
        if (data != null) {
          events.add(data);
        }
        start = i + 1;
      }
      lineStart = i + 1;
    }
    System.arraycopy(pending, start, pending, 0, size - start);
    size -= start;
    return events;
  }

  /** Bytes received that do not yet form a whole event. */
  int buffered() {
    return size;
  }

  /** The joined data lines of the event in {@code [from, to)}, or null when it has none. */
  private String data(int from, int to) {
    String block = new String(pending, from, to - from, StandardCharsets.UTF_8);
    StringBuilder data = null;
    for (String line : block.split("\r?\n")) {
      if (!line.startsWith("data:")) {
        continue;
      }
      String value = line.substring(5);
      if (value.startsWith(" ")) {
        value = value.substring(1);
      }
      if (data == null) {
        data = new StringBuilder(value);
      } else {
        data.append('\n').append(value);
      }
    }
    return data == null ? null : data.toString();
  }

  private void ensure(int capacity) {
    if (capacity > pending.length) {
      byte[] bigger = new byte[Math.max(capacity, pending.length * 2)];
      System.arraycopy(pending, 0, bigger, 0, size);
      pending = bigger;
    }
  }
}
