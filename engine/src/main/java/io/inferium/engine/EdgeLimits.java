package io.inferium.engine;

import io.inferium.engine.api.HttpTimeouts;
import io.inferium.engine.gateway.WorkerPortLimits;
import java.util.Map;

/**
 * The bounds at the gateway's two edges: how long HTTP clients may take ({@link HttpTimeouts}) and
 * what the worker port accepts ({@link WorkerPortLimits}). Per-tenant limits (uploads, streams,
 * verification share, priority, storage) are in the tier table.
 */
public record EdgeLimits(HttpTimeouts http, WorkerPortLimits workerPort) {

  public static EdgeLimits defaults() {
    return new EdgeLimits(HttpTimeouts.defaults(), WorkerPortLimits.defaults());
  }

  /**
   * The defaults with what these variables override: {@code INFERIUM_HTTP_HEADER_TIMEOUT_MS},
   * {@code INFERIUM_HTTP_KEEPALIVE_TIMEOUT_MS}, {@code INFERIUM_HTTP_BODY_GRACE_MS},
   * {@code INFERIUM_HTTP_MIN_BODY_RATE} (bytes/s), {@code INFERIUM_HTTP_IDLE_TIMEOUT_S},
   * {@code INFERIUM_WORKER_HELLO_TIMEOUT_MS}, {@code INFERIUM_WORKER_MAX_UNATTESTED},
   * {@code INFERIUM_WORKER_MAX_FRAME_MB}.
   */
  public static EdgeLimits fromEnv(Map<String, String> env) {
    HttpTimeouts h = HttpTimeouts.defaults();
    WorkerPortLimits w = WorkerPortLimits.defaults();
    return new EdgeLimits(
        new HttpTimeouts(num(env, "INFERIUM_HTTP_HEADER_TIMEOUT_MS", h.headerTimeoutMs()),
            num(env, "INFERIUM_HTTP_KEEPALIVE_TIMEOUT_MS", h.keepAliveTimeoutMs()),
            num(env, "INFERIUM_HTTP_BODY_GRACE_MS", h.bodyGraceMs()),
            num(env, "INFERIUM_HTTP_MIN_BODY_RATE", h.minBodyBytesPerSecond()),
            (int) num(env, "INFERIUM_HTTP_IDLE_TIMEOUT_S", h.idleTimeoutS()), h.lingerMs()),
        new WorkerPortLimits(w.helloMaxBytes(), num(env, "INFERIUM_WORKER_HELLO_TIMEOUT_MS", w.helloTimeoutMs()),
            (int) num(env, "INFERIUM_WORKER_MAX_UNATTESTED", w.maxUnattested()),
            Math.toIntExact(Math.min(io.inferium.functions.protocol.FrameCodec.MAX_FRAME_BYTES,
                num(env, "INFERIUM_WORKER_MAX_FRAME_MB", w.maxFrameBytes() >> 20) << 20))));
  }

  private static long num(Map<String, String> env, String name, long fallback) {
    String v = env.get(name);
    if (v == null || v.isBlank()) {
      return fallback;
    }
    try {
      return Long.parseLong(v.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + ": expected an integer, got '" + v + "'");
    }
  }
}
