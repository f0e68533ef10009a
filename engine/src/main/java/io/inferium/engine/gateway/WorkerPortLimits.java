package io.inferium.engine.gateway;

import io.inferium.functions.protocol.FrameCodec;

/**
 * Bounds of the worker port, which anything on the machine can connect to: what a connection may
 * send before its hello is accepted, how long it has to send it, how many such connections may be
 * open at once, and the largest frame an attested worker may send.
 *
 * @param helloMaxBytes   largest frame before the hello is accepted; a longer length prefix closes the connection at once
 * @param helloTimeoutMs  a connection that has not said an accepted hello by then is closed
 * @param maxUnattested   connections without an accepted hello open at once; one more pushes out the oldest that has
 *                        sent no hello, or is closed on arrival when every one has ({@link UnattestedConnections})
 * @param maxFrameBytes   largest frame from an attested worker; a longer one closes its link (its requests fail naming it)
 */
public record WorkerPortLimits(int helloMaxBytes, long helloTimeoutMs, int maxUnattested, int maxFrameBytes) {

  public static final long DEFAULT_HELLO_TIMEOUT_MS = 5_000;
  public static final int DEFAULT_MAX_UNATTESTED = 64;
  /** Large enough for a full batch of a large model's outputs, far below the format's 2 GiB ceiling. */
  public static final int DEFAULT_MAX_FRAME_BYTES = 256 << 20;

  public WorkerPortLimits {
    if (helloMaxBytes <= 0 || helloMaxBytes > FrameCodec.MAX_FRAME_BYTES || helloTimeoutMs <= 0 || maxUnattested <= 0
        || maxFrameBytes <= 0 || maxFrameBytes > FrameCodec.MAX_FRAME_BYTES) {
      throw new IllegalArgumentException("worker port limits out of range: " + helloMaxBytes + " hello bytes, "
          + helloTimeoutMs + " ms, " + maxUnattested + " connections, " + maxFrameBytes + " frame bytes");
    }
  }

  public static WorkerPortLimits defaults() {
    return new WorkerPortLimits(FrameCodec.MAX_HELLO_FRAME_BYTES, DEFAULT_HELLO_TIMEOUT_MS, DEFAULT_MAX_UNATTESTED,
        DEFAULT_MAX_FRAME_BYTES);
  }
}
