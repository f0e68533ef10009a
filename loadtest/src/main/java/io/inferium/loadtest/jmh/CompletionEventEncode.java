package io.inferium.loadtest.jmh;

import io.inferium.functions.CompletionEvent;
import io.inferium.infra.events.impl.LocalEventLog;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the gateway does once per answered request to put its completion event in the local log: build the event and
 * turn it into the log's stored line. {@code tree} is the way before the event was written as bytes (the event as a
 * {@code JsonObject}, wrapped in a {@code {k, v}} object, encoded by Vert.x's codec); {@code bytes} is
 * {@link CompletionEvent#toBuffer} and {@link LocalEventLog#line}. The event is a V2 call's, as {@code V2Routes} builds
 * it (digests, one worker, timings, batch rows).
 *
 * <pre>java -cp loadtest/target/inferium-loadtest.jar org.openjdk.jmh.Main CompletionEventEncode</pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(2)
public class CompletionEventEncode {

  private CompletionEvent.Builder builder;
  private String id;

  @Setup
  public void setUp() {
    id = UUID.randomUUID().toString();
    builder = CompletionEvent.builder(id, "add", 1, "dev-tenant",
            "5f2b8c0e7d1a4f3b9e6c2d8a1b7f4e0c3a9d6b2e8f1c5a7d4b0e3f6a9c2d5b8e")
        .at(Instant.now()).tenant("acme").endpoint("v2.infer", "request").worker("w1")
        .inputSha256("0c5b2e7f9a1d4c8b3e6f0a2d5c9b7e1f4a8d3c6b0e2f5a9d7c1b4e8f3a6d0c2b")
        .outputSha256("9e1c4a7d2b5f8e0c3a6d9b1f4e7c0a2d5b8e1f3c6a9d0b4e7f2c5a8d1b3e6f9c")
        .charge(1, 412, 41).timings(85, 412, 1630).detail("batch_rows", 1);
  }

  @Benchmark
  public Buffer tree() {
    CompletionEvent e = builder.build();
    return new JsonObject().put("k", id).put("v", e.toJson()).toBuffer();
  }

  @Benchmark
  public Buffer bytes() {
    CompletionEvent e = builder.build();
    return LocalEventLog.line(id, e.toBuffer());
  }
}
