package io.inferium.loadtest;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;

/**
 * Concurrent streaming clients of {@code POST /v1/completions} in a closed loop: each of
 * {@code concurrency} clients sends a request with {@code stream: true}, reads its Server-Sent
 * Events as they arrive, timestamps every chunk that carries text, and sends its next request when
 * the stream ends with {@code [DONE]}. One HTTP/1.1 connection per client, all on one event-loop
 * context, so the recording needs no locking. The usage chunk ({@code stream_options.include_usage})
 * gives each generation's completion tokens.
 */
final class StreamingClients {

  /** A stream that goes quiet this long fails (the request's idle timeout). */
  static final long IDLE_TIMEOUT_MS = 30_000;

  private final Vertx vertx;
  private final String host;
  private final int port;
  private final String key;

  StreamingClients(Vertx vertx, String host, int port, String key) {
    LoadTarget.requireLoopback(host);
    this.vertx = vertx;
    this.host = host;
    this.port = port;
    this.key = key;
  }

  /** Runs the closed loop with {@code body} (which must ask for a stream) and records it. */
  Future<StreamingResult> closedLoop(String label, int concurrency, JsonObject body, Duration warmup, Duration duration,
      long maxGenerations) {
    HttpClientAgent client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setTcpNoDelay(true),
        new PoolOptions().setHttp1MaxSize(concurrency));
    Context ctx = vertx.getOrCreateContext();
    Promise<StreamingResult> done = Promise.promise();
    ctx.runOnContext(v -> new Run(label, concurrency, body.toBuffer(), warmup, duration, maxGenerations, client, done)
        .start());
    return done.future().andThen(ar -> client.close());
  }

  private final class Run {
    private final String label;
    private final int concurrency;
    private final Buffer body;
    private final long maxGenerations;
    private final HttpClientAgent client;
    private final Promise<StreamingResult> done;
    private final long end;
    private final StreamRecording rec;
    private long sent;
    private int active;

    Run(String label, int concurrency, Buffer body, Duration warmup, Duration duration, long maxGenerations,
        HttpClientAgent client, Promise<StreamingResult> done) {
      this.label = label;
      this.concurrency = concurrency;
      this.body = body;
      this.maxGenerations = maxGenerations;
      this.client = client;
      this.done = done;
      long windowStart = System.nanoTime() + warmup.toNanos();
      this.end = windowStart + duration.toNanos();
      this.rec = new StreamRecording(windowStart, end);
    }

    void start() {
      active = concurrency;
      for (int i = 0; i < concurrency; i++) {
        next();
      }
    }

    private void next() {
      long now = System.nanoTime();
      if (now >= end || sent >= maxGenerations) {
        if (--active == 0) {
          done.complete(rec.result(label, concurrency));
        }
        return;
      }
      sent++;
      StreamRecording.Stream stream = rec.open(now);
      RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setHost(host).setPort(port)
          .setURI("/v1/completions").setIdleTimeout(IDLE_TIMEOUT_MS)
          .putHeader("Content-Type", "application/json").putHeader("Accept", "text/event-stream");
      if (key != null && !key.isBlank()) {
        options.putHeader("Authorization", "Bearer " + key);
      }
      client.request(options)
          .compose(req -> req.send(body))
          .compose(resp -> read(resp, stream))
          .onComplete(ar -> {
            if (ar.failed()) {
              rec.error(kind(ar.cause()), System.nanoTime());
            }
            next();
          });
    }

    /** Reads one stream to its end; fails on a non-200 answer or a stream that ends without {@code [DONE]}. */
    private Future<Void> read(HttpClientResponse resp, StreamRecording.Stream stream) {
      if (resp.statusCode() != 200) {
        return resp.body().compose(b -> Future.failedFuture(new StatusException(resp.statusCode())));
      }
      SseEvents events = new SseEvents();
      boolean[] finished = {false};
      int[] completion = {-1};
      String[] error = {null};
      resp.handler(buffer -> {
        long now = System.nanoTime();
        for (String data : events.feed(buffer.getBytes())) {
          if ("[DONE]".equals(data)) {
            finished[0] = true;
            stream.finished(now, completion[0]);
            continue;
          }
          JsonObject chunk;
          try {
            chunk = new JsonObject(data);
          } catch (DecodeException e) {
            continue;
          }
          if (chunk.containsKey("error")) {
            error[0] = String.valueOf(chunk.getJsonObject("error", new JsonObject()).getValue("code"));
          }
          if (!textOf(chunk).isEmpty()) {
            stream.token(now);
          }
          JsonObject usage = chunk.getJsonObject("usage");
          if (usage != null) {
            completion[0] = usage.getInteger("completion_tokens", -1);
          }
        }
      });
      return resp.end().compose(v -> finished[0] ? Future.succeededFuture()
          : Future.failedFuture(new IllegalStateException(error[0] != null ? "stream error " + error[0]
              : "stream ended without [DONE]")));
    }
  }

  /** The text a completions chunk carries (its first choice's {@code text}), empty when none. */
  static String textOf(JsonObject chunk) {
    JsonArray choices = chunk.getJsonArray("choices");
    if (choices == null || choices.isEmpty()) {
      return "";
    }
    Object text = choices.getJsonObject(0).getValue("text");
    return text instanceof String s ? s : "";
  }

  private static String kind(Throwable t) {
    if (t instanceof StatusException s) {
      return "http " + s.status;
    }
    String msg = t.getMessage() == null ? "" : t.getMessage();
    return "io " + t.getClass().getSimpleName() + (msg.isEmpty() ? "" : ": " + (msg.length() > 60 ? msg.substring(0, 60) : msg));
  }

  private static final class StatusException extends RuntimeException {
    final int status;

    StatusException(int status) {
      super("http " + status, null, false, false);
      this.status = status;
    }
  }
}
