package io.inferium.engine.gateway;

import io.inferium.functions.ModelBlobs;
import io.inferium.functions.protocol.Frame;
import io.inferium.functions.protocol.FrameType;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Ranges of model blobs for remote nodes' FETCH frames (docs/NETWORK.md, "Models by content hash"). */
final class BlobRanges {

  private static final Logger log = LoggerFactory.getLogger(BlobRanges.class);

  private final ModelBlobs blobs;
  private final WorkerExecutor files;

  BlobRanges(ModelBlobs blobs, WorkerExecutor files) {
    this.blobs = blobs;
    this.files = files;
  }

  /** Largest range one FETCH gets; FETCH requests of one node in flight at once. */
  static final int MAX_FETCH_BYTES = 4 << 20;
  static final int MAX_FETCHES_IN_FLIGHT = 4;

  /**
   * Answers a node's FETCH: only a well-formed sha256 this link asked the node to load (never a path, so
   * nothing else on the gateway's disk can be named), a range inside the blob, at most
   * {@link #MAX_FETCH_BYTES}; read on the file executor.
   */
  Future<Frame> fetch(String nodeId, AtomicInteger inFlight, long id, JsonObject req, java.util.Set<String> assigned) {
    Object sha = req.getValue("sha256");
    Object offset = req.getValue("offset");
    Object length = req.getValue("length");
    String problem = null;
    if (!(sha instanceof String s) || !io.inferium.functions.ModelBlobs.isSha256Hex(s)) {
      problem = "field 'sha256': expected 64 lower-case hex digits, got " + abbreviate(sha);
    } else if (!assigned.contains(s)) {
      problem = "blob " + s + " was not assigned to node " + nodeId;
    } else if (!(offset instanceof Number o) || o.longValue() < 0) {
      problem = "field 'offset': expected a non-negative integer, got " + abbreviate(offset);
    } else if (!(length instanceof Number n) || n.longValue() <= 0) {
      problem = "field 'length': expected a positive integer, got " + abbreviate(length);
    }
    if (problem != null) {
      log.warn("Refusing a FETCH of node {}: {}", nodeId, problem);
      return Future.succeededFuture(Frame.error(id, "refused", problem));
    }
    if (inFlight.incrementAndGet() > MAX_FETCHES_IN_FLIGHT) {
      inFlight.decrementAndGet();
      return Future.succeededFuture(Frame.error(id, "overloaded", "more than " + MAX_FETCHES_IN_FLIGHT + " fetches in flight"));
    }
    String sha256 = (String) sha;
    long from = ((Number) offset).longValue();
    int want = (int) Math.min(MAX_FETCH_BYTES, ((Number) length).longValue());
    return files.<Frame>executeBlocking(() -> {
      try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(blobs.path(sha256))) {
        long total = ch.size();
        if (from > total) {
          return Frame.error(id, "refused", "offset " + from + " is past the end of blob " + sha256 + " (" + total + " bytes)");
        }
        java.nio.ByteBuffer data = java.nio.ByteBuffer.allocate((int) Math.min(want, total - from));
        while (data.hasRemaining() && ch.read(data, from + data.position()) >= 0) {
          // positional reads until the range is full
        }
        data.flip();
        return new Frame(FrameType.BLOB, id, new JsonObject().put("sha256", sha256).put("offset", from).put("total", total),
            List.of(new io.inferium.functions.tensor.Tensor("data", io.inferium.functions.tensor.DataType.UINT8,
                new long[] {data.remaining()}, data)));
      }
    }, false).onComplete(ar -> inFlight.decrementAndGet());
  }

  private static String abbreviate(Object o) {
    String s = String.valueOf(o);
    return s.length() > 80 ? s.substring(0, 80) + "…" : s;
  }

}
