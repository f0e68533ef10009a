package io.inferium.infra.events.impl;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A consumer group's committed position: one file kept open, the offset rewritten in place as twenty
 * digits (one write of 20 bytes, inside one disk sector), forced to disk when the last force is older
 * than the interval the caller gives. Not thread-safe: the log's I/O thread owns it.
 */
final class OffsetFile {

  private static final int WIDTH = 20;

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
    byte[] digits = String.format("%020d", offset).getBytes(StandardCharsets.US_ASCII);
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
