package io.inferium.infra.events.impl;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A consumer group's committed position: one file kept open, the offset rewritten in place as twenty digits,
 * twice ({@code <offset> <offset>}, one write of 41 bytes inside one disk sector), forced to disk when the last
 * force is older than the interval the caller gives. {@link #parse} accepts the position only when both copies
 * agree: a write torn by a crash can make the group read records again, never skip one. Not thread-safe: the
 * log's I/O thread owns it.
 */
final class OffsetFile {

  private static final int DIGITS = 20;
  private static final int WIDTH = 2 * DIGITS + 1;

  private final FileChannel channel;
  private final ByteBuffer buffer = ByteBuffer.allocate(WIDTH);
  private long lastForceNanos;
  private boolean dirty;

  private OffsetFile(FileChannel channel) {
    this.channel = channel;
  }

  static OffsetFile open(Path path) throws IOException {
    FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    OffsetFile f = new OffsetFile(ch);
    // Files from before (decimal of any width, replaced by rename) become fixed-width at the first write.
    f.dirty = ch.size() != WIDTH;
    f.lastForceNanos = System.nanoTime() - Long.MAX_VALUE / 2;
    return f;
  }

  void write(long offset, long syncMs) throws IOException {
    byte[] digits = String.format("%020d %020d", offset, offset).getBytes(StandardCharsets.US_ASCII);
    buffer.clear();
    buffer.put(digits).flip();
    while (buffer.hasRemaining()) {
      channel.write(buffer, WIDTH - buffer.remaining());
    }
    if (channel.size() != WIDTH) {
      channel.truncate(WIDTH);
    }
    dirty = true;
    long now = System.nanoTime();
    if (now - lastForceNanos >= syncMs * 1_000_000L) {
      force(now);
    }
  }

  /**
   * The position a file holds: both copies equal, or a single decimal (the format before this one, replaced by
   * rename); null for anything else (a torn write: the group starts over from the oldest kept record).
   */
  static Long parse(String text) {
    String[] parts = text.strip().split(" ", -1);
    try {
      if (parts.length == 1) {
        return parts[0].length() < DIGITS ? Long.parseLong(parts[0]) : null;
      }
      if (parts.length == 2 && parts[0].length() == DIGITS && parts[0].equals(parts[1])) {
        return Long.parseLong(parts[0]);
      }
    } catch (NumberFormatException e) {
      // torn
    }
    return null;
  }

  private void force(long now) throws IOException {
    channel.force(false);
    lastForceNanos = now;
    dirty = false;
  }

  void close() throws IOException {
    try {
      if (dirty) {
        force(System.nanoTime());
      }
    } finally {
      channel.close();
    }
  }
}
