package io.inferium.engine.api;

import io.inferium.engine.text.Generations;
import io.inferium.engine.text.TextMetrics;
import io.inferium.functions.FunctionRecord;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Writes one generation to its client the way OpenAI does: a JSON completion at the end, or with
 * {@code stream: true} Server-Sent Events, {@code data: {chunk}} per token (for chat the first chunk
 * of each choice carries the assistant role), a final chunk per choice with its finish_reason, an
 * optional usage chunk, then {@code data: [DONE]}. Also measures time to first token and inter-token
 * latency as the client sees them.
 */
final class GenerationStream {

  private final RoutingContext ctx;
  private final FunctionRecord fn;
  private final boolean chat;
  private final boolean stream;
  private final boolean includeUsage;
  private final long startNanos;
  private final TextMetrics.StreamTimers timers;
  private final String id;
  private final long created = System.currentTimeMillis() / 1000;
  private final Map<Integer, StringBuilder> texts = new HashMap<>();
  private final Map<Integer, Long> lastTokenNanos = new HashMap<>();
  private int promptTokens;
  private boolean started;

  GenerationStream(RoutingContext ctx, FunctionRecord fn, boolean chat, boolean stream, boolean includeUsage, int n,
      long startNanos, TextMetrics metrics) {
    this.ctx = ctx;
    this.fn = fn;
    this.chat = chat;
    this.stream = stream;
    this.includeUsage = includeUsage;
    this.startNanos = startNanos;
    this.timers = metrics.streamTimers(fn.name());
    this.id = (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID();
  }

  String id() {
    return id;
  }

  /** The text of each choice so far, in choice order (what the client received, for the completion event's digest). */
  List<String> texts() {
    return texts.entrySet().stream().sorted(Map.Entry.comparingByKey()).map(e -> e.getValue().toString()).toList();
  }

  /** Whether the response's head went out (a streamed answer has begun). */
  boolean started() {
    return started;
  }

  int promptTokens() {
    return promptTokens;
  }

  /**
   * Tokens that arrived together (one batch from the worker): each is one SSE event, as OpenAI sends
   * them, and the batch leaves in one write (one HTTP chunk, one syscall) however many tokens it holds.
   */
  void chunks(List<Generations.Chunk> batch) {
    long now = System.nanoTime();
    boolean open = stream && !ctx.response().closed();
    StringBuilder events = open ? new StringBuilder(batch.size() * (contentPrefix().length() + 64)) : null;
    for (Generations.Chunk c : batch) {
      promptTokens = c.promptTokens();
      Long last = lastTokenNanos.put(c.index(), now);
      if (last == null) {
        timers.firstToken(now - startNanos);
      } else {
        timers.interToken(now - last);
      }
      StringBuilder text = texts.get(c.index());
      boolean first = text == null;
      if (first) {
        text = new StringBuilder();
        texts.put(c.index(), text);
      }
      text.append(c.text());
      if (!open) {
        continue;
      }
      if (first && chat) {
        event(events, choiceChunk(c.index(), new JsonObject().put("role", "assistant").put("content", ""), null));
      }
      if (!c.text().isEmpty()) {
        // The hot path: the constant part of the chunk is encoded once per stream.
        events.append(contentPrefix()).append(c.index()).append(chat ? ",\"delta\":{\"content\":" : ",\"text\":");
        SseText.appendJsonString(events, c.text());
        events.append(chat ? "}" : "").append(",\"logprobs\":null,\"finish_reason\":null}]}\n\n");
      }
    }
    if (open) {
      begin();
      if (!events.isEmpty()) {
        ctx.response().write(events.toString());
      }
    }
  }

  /** The answer's end; {@code billed} says whether its usage was recorded (see {@link Billed}). */
  void finish(Generations.Finished f, boolean billed) {
    HttpServerResponse response = ctx.response();
    if (response.closed()) {
      return;
    }
    JsonObject usage = new JsonObject().put("prompt_tokens", f.promptTokens()).put("completion_tokens", f.completionTokens())
        .put("total_tokens", f.promptTokens() + f.completionTokens());
    headers(f, billed);
    if (stream) {
      begin();
      // The stream's tail (finish reasons, usage, [DONE]) leaves in one write with the end.
      StringBuilder tail = new StringBuilder(256 * (f.choices().size() + 1));
      for (Generations.Choice choice : f.choices()) {
        if (chat && !texts.containsKey(choice.index())) {
          event(tail, choiceChunk(choice.index(), new JsonObject().put("role", "assistant").put("content", ""), null));
        }
        event(tail, choiceChunk(choice.index(), chat ? new JsonObject() : null, choice.finishReason(), ""));
      }
      if (includeUsage) {
        event(tail, envelope().put("choices", new JsonArray()).put("usage", usage));
      }
      if (!billed) {
        tail.append(Billed.SSE_UNBILLED);
      }
      response.end(tail.append("data: [DONE]\n\n").toString());
      return;
    }
    JsonArray choices = new JsonArray();
    for (Generations.Choice choice : f.choices()) {
      String text = texts.getOrDefault(choice.index(), new StringBuilder()).toString();
      JsonObject o = new JsonObject().put("index", choice.index()).put("logprobs", null)
          .put("finish_reason", choice.finishReason());
      if (chat) {
        o.put("message", new JsonObject().put("role", "assistant").put("content", text).put("refusal", null));
      } else {
        o.put("text", text);
      }
      choices.add(o);
    }
    FunctionRoutes.json(ctx, 200, new JsonObject().put("id", id).put("object", chat ? "chat.completion" : "text_completion")
        .put("created", created).put("model", fn.name()).put("choices", choices).put("usage", usage));
  }

  /** An error after the stream began: one error event, then the stream ends (no [DONE]). */
  void error(ApiError e) {
    if (!ctx.response().closed()) {
      ctx.response().end("data: " + OpenAiErrors.body(e).encode() + "\n\n");
    }
  }

  private void headers(Generations.Finished f, boolean billed) {
    if (!started) {
      ctx.response().putHeader("X-Inferium-Request-Id", id).putHeader("X-Inferium-Worker", f.workerId())
          .putHeader("X-Inferium-Charge-Micro-Usd",
              billed ? Long.toString(fn.spec().price().chargeTokens((long) f.promptTokens() + f.completionTokens())) : "0")
          .putHeader(Billed.HEADER, Boolean.toString(billed));
      if (f.verdict() != null) {
        ctx.response().putHeader("X-Inferium-Verdict", f.verdict());
      }
    }
  }

  private void begin() {
    if (!started) {
      started = true;
      ctx.response().setStatusCode(200).setChunked(true)
          .putHeader("Content-Type", "text/event-stream; charset=utf-8")
          .putHeader("Cache-Control", "no-cache")
          .putHeader("X-Accel-Buffering", "no")
          .putHeader("X-Inferium-Request-Id", id);
    }
  }

  private String contentPrefix;

  /** {@code data: {"id":…,"object":…,"created":…,"model":…,["usage":null,]"choices":[{"index":} as {@link #envelope()} has it. */
  private String contentPrefix() {
    if (contentPrefix == null) {
      String env = envelope().put("choices", new JsonArray()).encode();
      contentPrefix = "data: " + env.substring(0, env.length() - "[]}".length()) + "[{\"index\":";
    }
    return contentPrefix;
  }

  private JsonObject envelope() {
    JsonObject o = new JsonObject().put("id", id).put("object", chat ? "chat.completion.chunk" : "text_completion")
        .put("created", created).put("model", fn.name());
    if (includeUsage) {
      o.put("usage", null);
    }
    return o;
  }

  private JsonObject choiceChunk(int index, JsonObject delta, String finishReason) {
    return choiceChunk(index, delta, finishReason, "");
  }

  private JsonObject choiceChunk(int index, JsonObject delta, String finishReason, String text) {
    JsonObject choice = new JsonObject().put("index", index);
    if (chat) {
      choice.put("delta", delta).put("logprobs", null);
    } else {
      choice.put("text", text).put("logprobs", null);
    }
    choice.put("finish_reason", finishReason);
    return envelope().put("choices", new JsonArray().add(choice));
  }

  private static void event(StringBuilder out, JsonObject chunk) {
    out.append("data: ").append(chunk.encode()).append("\n\n");
  }
}
