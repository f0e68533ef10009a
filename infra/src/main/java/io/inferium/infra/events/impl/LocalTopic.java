package io.inferium.infra.events.impl;

import io.inferium.infra.events.LogRecord;
import io.netty.buffer.Unpooled;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * One topic of the local log: segment files {@code <base offset>.log} holding one JSON line per
 * record ({@code {"k": key, "v": event}}), so a record's offset is its segment's base plus its line
 * number. Committed positions live in {@code groups/<group>.offset}: twenty digits (twice) rewritten in place, forced
 * to disk at most once per {@link #OFFSET_SYNC_MS} per group (and at close). A crash can lose the last second of
 * commits; the group then re-reads records it already handled, which at-least-once consumers (idempotent on
 * the event id) must accept anyway. An offset file a crash left unreadable counts as no commit (re-read from
 * the oldest kept record), never as a reason not to open the log.
 *
 * <p>Records read are parsed once: the last {@value #PARSED_RECORDS} (each up to {@value #MAX_SHARED_RECORD_BYTES}
 * bytes) stay parsed, so every consumer group reading the same stretch shares one {@link LogRecord} (its value
 * is read-only to handlers) instead of parsing the line again.
 *
 * <p>Not thread-safe: only the log's single I/O thread calls it.
 */
final class LocalTopic {

  /** Where the next read continues: the record at {@code offset} starts at {@code pos} of segment {@code base}. */
  record Cursor(long offset, long base, long pos) {
  }

  private static final int READ_CHUNK = 1 << 20;
  static final int MAX_RECORD_BYTES = READ_CHUNK - 1;
  /** Two full batches: groups lingering behind one another find the stretch the first one parsed. */
  static final int PARSED_RECORDS = 1024;
  /** Larger records are parsed per group: this bounds what the shared records hold (about 16 MiB at most). */
  static final int MAX_SHARED_RECORD_BYTES = 16 << 10;

  private final String name;
  private final Path dir;
  private final Path groupsDir;
  private final long segmentBytes;
  private final long unconsumedRetentionBytes;
  private final TreeMap<Long, Path> segments = new TreeMap<>();
  private final Map<String, Long> committed = new HashMap<>();
  /**
   * How often a group's committed position is forced to disk. Each fsync of a small file is a journal commit
   * (the event log thread's largest kernel cost after the appends' own group commit); a commit that is not yet
   * forced only means redelivery after a machine crash, never a lost event.
   */
  static final long OFFSET_SYNC_MS = Long.getLong("inferium.events.offsetSyncMs", 1_000);
  private final Map<String, OffsetFile> offsetFiles = new HashMap<>();
  /**
   * How far ahead of its records the active segment's blocks are written (with zeros), in bytes; 0: never. An
   * fdatasync of a write into blocks the file already has is a data flush only, while one that grows the file must
   * also commit the new size and extent through the file system's journal: on this project's ext4 machine
   * {@code loadtest/scripts/fsync-cost.py} reads 830 µs of wall time and 94 µs of CPU per growing append against
   * 390 µs and 44 µs per append into written blocks. So the one fsync each append waits for costs half, and the
   * journal commit comes once per this many bytes. Zeros never occur in a record (JSON, control characters escaped),
   * so on open the first zero byte ends the log. System property {@code inferium.events.preallocateBytes}.
   */
  static final long PREALLOCATE_BYTES = Long.getLong("inferium.events.preallocateBytes", 1L << 20);
  private FileChannel active;
  private long activeBase;
  private long activeBytes;
  /** The active segment's length on disk: its records ({@link #activeBytes}) and the zeros written ahead of them. */
  private long activeLength;
  private ByteBuffer zeros;
  private volatile long nextOffset;
  /** Reused by every read (one I/O thread): a read costs no fresh megabyte to zero. */
  private final ByteBuffer readBuffer = ByteBuffer.allocate(READ_CHUNK);
  /** Parsed records by {@code offset % PARSED_RECORDS}; a slot holds whichever offset was parsed there last. */
  private final LogRecord[] parsed = new LogRecord[PARSED_RECORDS];

  private LocalTopic(String name, Path dir, long segmentBytes, long unconsumedRetentionBytes) {
    this.unconsumedRetentionBytes = unconsumedRetentionBytes;
    this.name = name;
    this.dir = dir;
    this.groupsDir = dir.resolve("groups");
    this.segmentBytes = segmentBytes;
  }

  static LocalTopic open(String name, Path dir, long segmentBytes, long unconsumedRetentionBytes) throws IOException {
    LocalTopic t = new LocalTopic(name, dir, segmentBytes, unconsumedRetentionBytes);
    t.recover();
    return t;
  }

  private void recover() throws IOException {
    Files.createDirectories(groupsDir);
    try (Stream<Path> files = Files.list(dir)) {
      files.filter(p -> p.getFileName().toString().endsWith(".log")).forEach(p -> {
        String n = p.getFileName().toString();
        segments.put(Long.parseLong(n.substring(0, n.length() - 4)), p);
      });
    }
    try (Stream<Path> files = Files.list(groupsDir)) {
      for (Path p : files.filter(f -> f.getFileName().toString().endsWith(".offset")).toList()) {
        String n = p.getFileName().toString();
        Long offset = OffsetFile.parse(Files.readString(p, StandardCharsets.ISO_8859_1));
        if (offset != null) {
          committed.put(n.substring(0, n.length() - 7), offset);
        }
        // else torn by a crash between a write and its fsync: the group starts over from the oldest kept record.
      }
    }
    if (segments.isEmpty()) {
      openSegment(0);
      return;
    }
    activeBase = segments.lastKey();
    active = FileChannel.open(segments.get(activeBase), StandardOpenOption.READ, StandardOpenOption.WRITE);
    // A crash can leave a torn last line, and the zeros written ahead of the records: keep only whole lines up to
    // the first zero byte. Cut everything after them, so that no stale byte can ever follow a later record.
    long lines = 0;
    long whole = 0;
    long size = active.size();
    ByteBuffer buf = ByteBuffer.allocate(READ_CHUNK);
    long pos = 0;
    scan:
    while (pos < size) {
      buf.clear();
      int n = active.read(buf, pos);
      if (n <= 0) {
        break;
      }
      for (int i = 0; i < n; i++) {
        byte b = buf.get(i);
        if (b == '\n') {
          lines++;
          whole = pos + i + 1;
        } else if (b == 0) {
          break scan;
        }
      }
      pos += n;
    }
    if (whole < size) {
      active.truncate(whole);
      active.force(true);
    }
    activeBytes = whole;
    activeLength = whole;
    nextOffset = activeBase + lines;
  }

  private void openSegment(long base) throws IOException {
    if (active != null) {
      // A full segment keeps exactly its records (readers of older segments go by the file's size), on disk before
      // the next segment exists: so only the last segment can ever hold zeros written ahead.
      cutAhead(true);
      active.close();
    }
    Path p = dir.resolve(String.format("%020d.log", base));
    active = FileChannel.open(p, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    segments.put(base, p);
    activeBase = base;
    activeBytes = active.size();
    activeLength = activeBytes;
    nextOffset = base;
    // The new file's directory entry must survive a crash too.
    fsyncDir();
  }

  private void fsyncDir() {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException ignored) {
      // Not every file system lets a directory be opened; the data itself is forced regardless.
    }
  }

  String name() {
    return name;
  }

  long nextOffset() {
    return nextOffset;
  }

  /**
   * Appends whole lines and forces them to disk once for the batch (group commit). When the lines reach past the
   * zeros written ahead, the same write carries the next {@link #PREALLOCATE_BYTES} of zeros (the same one fsync).
   */
  void write(List<Buffer> lines) throws IOException {
    int total = 0;
    for (Buffer b : lines) {
      total += b.length() + 1;
    }
    long end = activeBytes + total;
    long ahead = end > activeLength ? Math.min(PREALLOCATE_BYTES, Math.max(0, segmentBytes - end)) : 0;
    ByteBuffer out = ByteBuffer.allocate(total);
    for (Buffer b : lines) {
      out.put(b.getBytes()).put((byte) '\n');
    }
    out.flip();
    long pos = activeBytes;
    while (out.hasRemaining()) {
      pos += active.write(out, pos);
    }
    if (ahead > 0) {
      if (zeros == null || zeros.capacity() < ahead) {
        zeros = ByteBuffer.allocateDirect((int) Math.min(PREALLOCATE_BYTES, Math.max(ahead, 4096)));
      }
      ByteBuffer z = zeros.duplicate().clear().limit((int) ahead);
      while (z.hasRemaining()) {
        pos += active.write(z, pos);
      }
    }
    active.force(false);
    activeBytes = end;
    activeLength = Math.max(activeLength, pos);
    nextOffset += lines.size();
    if (activeBytes >= segmentBytes) {
      openSegment(nextOffset);
      if (committed.isEmpty()) {
        trimUnconsumed();
      }
    }
  }

  /** Cuts the zeros written ahead off the active segment (forced to disk or not). */
  private void cutAhead(boolean force) throws IOException {
    if (activeLength > activeBytes) {
      active.truncate(activeBytes);
      activeLength = activeBytes;
      if (force) {
        active.force(true);
      }
    }
  }

  /**
   * A topic no group has ever committed on (e.g. completions before any consumer exists) would grow
   * forever: keep only its newest {@code unconsumedRetentionBytes}. Once a group commits, segments go
   * only when every committing group is past them, so billing never loses an unconsumed event.
   */
  private void trimUnconsumed() throws IOException {
    long total = 0;
    for (Path p : segments.values()) {
      total += Files.size(p);
    }
    while (segments.size() > 1 && total > unconsumedRetentionBytes) {
      Map.Entry<Long, Path> first = segments.pollFirstEntry();
      total -= Files.size(first.getValue());
      Files.deleteIfExists(first.getValue());
    }
  }

  /** The cursor of {@code offset} (or of the oldest kept record, when older ones were cleaned up). */
  Cursor locate(long offset) throws IOException {
    Map.Entry<Long, Path> seg = segments.floorEntry(offset);
    if (seg == null) {
      seg = segments.firstEntry();
    }
    Cursor c = new Cursor(seg.getKey(), seg.getKey(), 0);
    long skip = Math.min(offset, nextOffset) - c.offset();
    while (skip > 0) {
      List<LogRecord> skipped = new ArrayList<>();
      c = read(c, (int) Math.min(skip, 10_000), skipped, false);
      if (skipped.isEmpty()) {
        break;
      }
      skip -= skipped.size();
    }
    return c;
  }

  /** Reads up to {@code max} records from {@code from} into {@code out}; returns where reading stopped. */
  Cursor read(Cursor from, int max, List<LogRecord> out, boolean parse) throws IOException {
    Cursor c = from;
    ByteBuffer buf = readBuffer;
    while (out.size() < max) {
      long size = c.base() == activeBase ? activeBytes : Files.size(segments.get(c.base()));
      if (c.pos() >= size) {
        Long next = segments.higherKey(c.base());
        if (next == null) {
          break;
        }
        c = new Cursor(c.offset(), next, 0);
        continue;
      }
      buf.clear();
      buf.limit((int) Math.min(READ_CHUNK, size - c.pos()));
      if (c.base() == activeBase) {
        active.read(buf, c.pos());
      } else {
        try (FileChannel ch = FileChannel.open(segments.get(c.base()), StandardOpenOption.READ)) {
          ch.read(buf, c.pos());
        }
      }
      byte[] bytes = buf.array();
      int start = 0;
      for (int i = 0; i < buf.position() && out.size() < max; i++) {
        if (bytes[i] == '\n') {
          out.add(parse ? record(c.offset(), bytes, start, i - start) : null);
          c = new Cursor(c.offset() + 1, c.base(), c.pos() + (i + 1 - start));
          start = i + 1;
        }
      }
    }
    return c;
  }

  /** The record at {@code offset}, whose line is {@code bytes[start, start + length)}: parsed, or as parsed before. */
  private LogRecord record(long offset, byte[] bytes, int start, int length) {
    int slot = (int) (offset % PARSED_RECORDS);
    LogRecord known = parsed[slot];
    if (known != null && known.offset() == offset) {
      return known;
    }
    // Parsed straight from the read buffer: no copy of the line (the buffer is reused, the parse is done here).
    JsonObject line = new JsonObject(BufferInternal.buffer(Unpooled.wrappedBuffer(bytes, start, length)));
    LogRecord r = new LogRecord(name, 0, offset, line.getString("k"), line.getJsonObject("v"));
    parsed[slot] = length <= MAX_SHARED_RECORD_BYTES ? r : null;
    return r;
  }

  Long committed(String group) {
    return committed.get(group);
  }

  /** Stores the group's position (forced to disk at most every {@link #OFFSET_SYNC_MS}), then drops consumed segments. */
  void commit(String group, long offset) throws IOException {
    OffsetFile f = offsetFiles.get(group);
    if (f == null) {
      f = OffsetFile.open(groupsDir.resolve(group + ".offset"));
      offsetFiles.put(group, f);
    }
    f.write(offset, OFFSET_SYNC_MS);
    committed.put(group, offset);
    long min = committed.values().stream().mapToLong(Long::longValue).min().orElse(0);
    while (segments.size() > 1) {
      Map.Entry<Long, Path> first = segments.firstEntry();
      Long second = segments.higherKey(first.getKey());
      if (second == null || second > min) {
        break;
      }
      Files.deleteIfExists(first.getValue());
      segments.remove(first.getKey());
    }
  }

  int segmentCount() {
    return segments.size();
  }

  void close() throws IOException {
    for (OffsetFile f : offsetFiles.values()) {
      f.close();
    }
    offsetFiles.clear();
    if (active != null) {
      cutAhead(false);
      active.close();
    }
  }
}
