package io.inferium.engine.api;

import io.inferium.engine.auth.Principal;
import io.inferium.engine.completions.Completions;
import io.inferium.engine.completions.Digests;
import io.inferium.engine.text.Embeddings;
import io.inferium.engine.text.Generations;
import io.inferium.engine.text.TextMetrics;
import io.inferium.functions.CompletionEvent;
import io.inferium.functions.FunctionKind;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.FunctionState;
import io.inferium.functions.FunctionStore;
import io.inferium.functions.SamplingParams;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The OpenAI-compatible API: {@code GET /v1/models}, {@code POST /v1/completions},
 * {@code POST /v1/chat/completions} (JSON or Server-Sent Events with {@code stream: true}) and
 * {@code POST /v1/embeddings}, for text-generation and embedding functions. A function's name is the
 * model id. Errors use OpenAI's shape; an error after a stream began arrives as an error event.
 */
final class OpenAiRoutes {

  private static final Pattern FIELD = Pattern.compile("field '([^']+)'");
  private static final int MAX_EMBEDDING_INPUTS = 256;
  /** Prompts one /v1/completions request may carry (as many as choices per prompt, {@code n}). */
  static final int MAX_PROMPTS = 8;
  /** Choices one request may ask for in all: prompts × n. */
  static final int MAX_CHOICES = 16;
  private static final List<String> ROLES = List.of("system", "developer", "user", "assistant");

  private final FunctionStore store;
  private final Generations generations;
  private final Embeddings embeddings;
  private final TextMetrics metrics;
  private final Limits limits;
  private final Completions completions;
  private PromptLimits prompts;

  OpenAiRoutes(FunctionStore store, Generations generations, Embeddings embeddings, TextMetrics metrics, Limits limits,
      Completions completions) {
    this.completions = completions;
    this.store = store;
    this.generations = generations;
    this.embeddings = embeddings;
    this.metrics = metrics;
    this.limits = limits;
  }

  void mount(Router router, long maxRequestBytes, PromptLimits prompts) {
    this.prompts = prompts;
    BodyHandler body = LimitedBodyHandler.create(false).setBodyLimit(prompts.bodyLimit(maxRequestBytes));
    router.get("/v1/models").handler(this::models);
    router.get("/v1/models/:model").handler(this::model);
    router.post("/v1/completions").handler(body).handler(ctx -> generate(ctx, false));
    router.post("/v1/chat/completions").handler(body).handler(ctx -> generate(ctx, true));
    router.post("/v1/embeddings").handler(body).handler(this::embed);
  }

  private static JsonObject modelJson(FunctionRecord fn) {
    return new JsonObject().put("id", fn.name()).put("object", "model")
        .put("created", fn.createdAt() == null ? 0 : fn.createdAt().toEpochSecond())
        .put("owned_by", fn.spec().developer() != null ? fn.spec().developer() : fn.owner() != null ? fn.owner() : "inferium")
        .put("kind", fn.spec().kind().wire());
  }

  private static boolean textKind(FunctionRecord fn) {
    return fn.spec().kind() == FunctionKind.TEXT_GENERATION || fn.spec().kind() == FunctionKind.EMBEDDING;
  }

  private void models(RoutingContext ctx) {
    Principal who = Authentication.principal(ctx);
    store.search(null, null, null, who.tenantId(), who.isAdmin())
        .onSuccess(all -> FunctionRoutes.json(ctx, 200, new JsonObject().put("object", "list").put("data", new JsonArray(
            all.stream().filter(fn -> fn.state() == FunctionState.READY && textKind(fn)).map(OpenAiRoutes::modelJson).toList()))))
        .onFailure(ctx::fail);
  }

  private void model(RoutingContext ctx) {
    resolve(ctx, ctx.pathParam("model"), null)
        .onSuccess(fn -> FunctionRoutes.json(ctx, 200, modelJson(fn)))
        .onFailure(ctx::fail);
  }

  /** The latest ready version of a visible text function named {@code name}. */
  private Future<FunctionRecord> resolve(RoutingContext ctx, String name, FunctionKind kind) {
    if (name == null || name.isEmpty()) {
      return Future.failedFuture(new OpenAiErrors.ParamError("model", "field 'model' is required: the name of a function"));
    }
    return store.latestReady(name).map(found -> {
      Optional<FunctionRecord> fn = found.filter(f -> FunctionRoutes.visible(ctx, f));
      if (fn.isEmpty() || !textKind(fn.get())) {
        throw ApiError.notFound("The model '" + name + "' does not exist or is not a ready text-generation or embedding "
            + "function you can use");
      }
      if (kind != null && fn.get().spec().kind() != kind) {
        throw new OpenAiErrors.ParamError("model", "model '" + name + "' is a " + fn.get().spec().kind().wire()
            + " function; " + ctx.request().path() + " serves " + kind.wire() + " functions");
      }
      return fn.get();
    });
  }

  private static JsonObject bodyOf(RoutingContext ctx) {
    try {
      JsonObject body = ctx.body().asJsonObject();
      if (body == null) {
        throw ApiError.badRequest("expected a JSON object body");
      }
      return body;
    } catch (io.vertx.core.json.DecodeException | ClassCastException e) {
      throw ApiError.badRequest("the body is not a JSON object: " + e.getMessage());
    }
  }

  private static ApiError paramError(IllegalArgumentException e) {
    Matcher m = FIELD.matcher(String.valueOf(e.getMessage()));
    return new OpenAiErrors.ParamError(m.find() ? m.group(1) : null, e.getMessage());
  }

  /** The work a worker needs: the prompt (completions) or the messages (chat), and the sampling parameters. */
  private static JsonObject work(JsonObject body, boolean chat) {
    JsonObject work = new JsonObject();
    for (String unsupported : List.of("logprobs", "top_logprobs", "suffix", "tools", "functions", "logit_bias")) {
      Object v = body.getValue(unsupported);
      if (v != null && !Boolean.FALSE.equals(v) && !(v instanceof JsonArray a && a.isEmpty())) {
        throw new OpenAiErrors.ParamError(unsupported, "field '" + unsupported + "' is not supported by this server");
      }
    }
    if (body.getValue("best_of") != null && !Integer.valueOf(1).equals(body.getValue("best_of"))) {
      throw new OpenAiErrors.ParamError("best_of", "field 'best_of': only 1 is supported");
    }
    Object format = body.getValue("response_format");
    if (format != null && !(format instanceof JsonObject f && "text".equals(f.getValue("type")))) {
      // Answering free text to a caller that asked for JSON would pass silently and break its parser later.
      throw new OpenAiErrors.ParamError("response_format", "field 'response_format': only {\"type\": \"text\"} is "
          + "supported (no constrained JSON output), got " + format);
    }
    if (Boolean.TRUE.equals(body.getValue("echo"))) {
      throw new OpenAiErrors.ParamError("echo", "field 'echo': true is not supported");
    }
    if (chat) {
      work.put("messages", messages(body.getValue("messages")));
    } else {
      work.put("prompts", new JsonArray(prompts(body.getValue("prompt"))));
    }
    Object stream = body.getValue("stream");
    if (stream != null && !(stream instanceof Boolean)) {
      throw new OpenAiErrors.ParamError("stream", "field 'stream': expected true or false, got " + stream);
    }
    return work;
  }

  /**
   * The prompts of a completion: a string, or an array of 1 to {@link #MAX_PROMPTS} strings (one generation each).
   * Token-id arrays are refused: the worker tokenizes text, and ids of another tokenizer would be silently wrong.
   */
  static List<String> prompts(Object p) {
    if (p instanceof String s) {
      return List.of(s);
    }
    if (p instanceof JsonArray a && !a.isEmpty()) {
      if (a.getValue(0) instanceof Number || a.getValue(0) instanceof JsonArray) {
        throw new OpenAiErrors.ParamError("prompt", "field 'prompt': token-id arrays are not supported; send the text "
            + "(a string or an array of strings)");
      }
      if (a.size() > MAX_PROMPTS) {
        throw new OpenAiErrors.ParamError("prompt", "field 'prompt': at most " + MAX_PROMPTS + " prompts per request, got "
            + a.size());
      }
      List<String> out = new ArrayList<>(a.size());
      for (int i = 0; i < a.size(); i++) {
        if (!(a.getValue(i) instanceof String s)) {
          throw new OpenAiErrors.ParamError("prompt", "field 'prompt[" + i + "]': expected a string, got " + a.getValue(i));
        }
        out.add(s);
      }
      return out;
    }
    throw new OpenAiErrors.ParamError("prompt", "field 'prompt': expected a string or an array of 1 to " + MAX_PROMPTS
        + " strings, got " + (p == null ? "nothing" : p instanceof JsonArray ? "an empty array" : p));
  }

  private static JsonArray messages(Object value) {
    if (!(value instanceof JsonArray list) || list.isEmpty()) {
      throw new OpenAiErrors.ParamError("messages", "field 'messages': expected a non-empty array of {role, content}, got "
          + (value == null ? "nothing" : value));
    }
    JsonArray out = new JsonArray();
    for (int i = 0; i < list.size(); i++) {
      if (!(list.getValue(i) instanceof JsonObject m)) {
        throw new OpenAiErrors.ParamError("messages", "field 'messages[" + i + "]': expected an object, got " + list.getValue(i));
      }
      String role = m.getValue("role") instanceof String r ? r : null;
      if (role == null || !ROLES.contains(role)) {
        throw new OpenAiErrors.ParamError("messages", "field 'messages[" + i + "].role': expected one of " + ROLES
            + ", got " + m.getValue("role"));
      }
      out.add(new JsonObject().put("role", role).put("content", content(m.getValue("content"), i)));
    }
    return out;
  }

  private static String content(Object c, int i) {
    if (c instanceof String s) {
      return s;
    }
    if (c instanceof JsonArray parts) {
      StringBuilder text = new StringBuilder();
      for (int j = 0; j < parts.size(); j++) {
        if (!(parts.getValue(j) instanceof JsonObject part) || !"text".equals(part.getString("type"))
            || !(part.getValue("text") instanceof String t)) {
          throw new OpenAiErrors.ParamError("messages", "field 'messages[" + i + "].content[" + j
              + "]': only {\"type\": \"text\", \"text\": ...} parts are supported, got " + parts.getValue(j));
        }
        text.append(t);
      }
      return text.toString();
    }
    throw new OpenAiErrors.ParamError("messages", "field 'messages[" + i + "].content': expected a string or an array of "
        + "text parts, got " + (c == null ? "nothing" : c));
  }

  private void generate(RoutingContext ctx, boolean chat) {
    long start = System.nanoTime();
    String endpoint = chat ? "chat.completions" : "completions";
    JsonObject body;
    JsonObject work;
    Principal who = Authentication.principal(ctx);
    try {
      body = bodyOf(ctx);
      work = work(body, chat);
    } catch (ApiError e) {
      ctx.fail(e);
      return;
    }
    boolean stream = Boolean.TRUE.equals(body.getValue("stream"));
    JsonObject streamOptions = body.getValue("stream_options") instanceof JsonObject o ? o : new JsonObject();
    boolean includeUsage = Boolean.TRUE.equals(streamOptions.getValue("include_usage"));
    String modelName = body.getValue("model") instanceof String s ? s : null;
    String[] routed = {null};
    Future.succeededFuture()
        .compose(v -> {
          limits.request(who, ctx.response());
          return limits.monthly(who).compose(x -> resolve(ctx, modelName, FunctionKind.TEXT_GENERATION));
        })
        .compose(fn -> {
          routed[0] = fn.name();
          SamplingParams params;
          try {
            // Before any work: bound the text the worker will template and tokenize (each prompt on its own).
            if (chat) {
              prompts.check(fn, "messages", PromptLimits.chatBytes(work.getJsonArray("messages")));
            } else {
              for (Object p : work.getJsonArray("prompts")) {
                prompts.check(fn, "prompt", PromptLimits.utf8Bytes((String) p));
              }
            }
            // Defaults from the model's generation_config.json, as its sandbox load reported it.
            JsonObject defaults = fn.report() == null ? new JsonObject()
                : fn.report().getJsonObject("text", new JsonObject()).getJsonObject("generation_config", new JsonObject());
            params = SamplingParams.fromOpenAi(body, defaults);
          } catch (IllegalArgumentException e) {
            return Future.failedFuture(paramError(e));
          }
          List<String> texts = chat ? null : work.getJsonArray("prompts").stream().map(String.class::cast).toList();
          int parts = chat ? 1 : texts.size();
          if (parts * params.n() > MAX_CHOICES) {
            return Future.failedFuture(new OpenAiErrors.ParamError("n", "fields 'prompt' and 'n': " + parts + " prompts × n "
                + params.n() + " = " + parts * params.n() + " choices; at most " + MAX_CHOICES + " per request"));
          }
          work.remove("prompts");
          work.put("params", params.toJson());
          // A max_tokens the client chose must fit the context with the prompt (the worker checks, once tokenized).
          work.put("strict_context", body.getValue("max_tokens") != null || body.getValue("max_completion_tokens") != null);
          // Each prompt is one generation (the worker batches them continuously), and holds one of the tenant's slots.
          List<Runnable> held = new ArrayList<>();
          Runnable release = () -> held.forEach(Runnable::run);
          try {
            held.add(stream ? limits.stream(who) : () -> { });
            for (int i = 0; i < parts; i++) {
              held.add(limits.generation(who));
            }
          } catch (RuntimeException e) {
            release.run();
            throw e;
          }
          int n = params.n();
          GenerationStream out = new GenerationStream(ctx, fn, chat, stream, includeUsage, parts * n, start, metrics);
          List<Generations.Generation> gens = new ArrayList<>(parts);
          int[] promptTokensSeen = new int[parts];
          try {
            long deadline = start + TimeUnit.MILLISECONDS.toNanos(fn.spec().timeoutMs());
            for (int i = 0; i < parts; i++) {
              JsonObject one = chat ? work : work.copy().put("prompt", texts.get(i));
              int part = i;
              // Prompt i's choices are i*n .. i*n+n-1, as OpenAI numbers them; its chunks interleave with the others'.
              gens.add(generations.submit(fn, one, deadline, batch -> {
                List<Generations.Chunk> chunks = part == 0 ? batch : batch.stream().map(c -> new Generations.Chunk(
                    c.index() + part * n, c.tokenId(), c.text(), c.promptTokens())).toList();
                if (!batch.isEmpty()) {
                  promptTokensSeen[part] = batch.get(batch.size() - 1).promptTokens();
                }
                out.chunks(chunks);
              }));
            }
          } catch (RuntimeException e) {
            gens.forEach(Generations.Generation::cancel);
            release.run();
            throw e;
          }
          ctx.response().closeHandler(v -> gens.forEach(Generations.Generation::cancel));
          Future<List<Generations.Finished>> all = parts == 1 ? gens.get(0).future().map(List::of)
              : Future.all(gens.stream().map(Generations.Generation::future).toList())
                  .<List<Generations.Finished>>map(cf -> cf.list())
                  // One prompt failed: the others stop too (the request is answered as a whole).
                  .onFailure(err -> gens.forEach(Generations.Generation::cancel));
          return all
              .transform(ar -> {
                release.run();
                Generations.Finished f = ar.succeeded() ? merge(ar.result(), n) : null;
                int prompt = f != null ? f.promptTokens() : java.util.Arrays.stream(promptTokensSeen).sum();
                int completion = f != null ? f.completionTokens()
                    : gens.stream().mapToInt(Generations.Generation::streamedTokens).sum();
                if (ar.succeeded() || out.started()) {
                  metrics.endToEnd(fn.name(), System.nanoTime() - start);
                }
                // A failed request costs nothing; a stream that reached the client is charged for what it sent.
                // The last chunk (or the answer) leaves only once its completion event is durable in the event log.
                // Several prompts: one completion event for the request, its tokens summed, each worker named.
                Future<Boolean> billed;
                if (ar.succeeded() || (stream && completion > 0)) {
                  CompletionEvent.Builder event = CompletionEvent.builder(out.id(), fn)
                      .endpoint(endpoint, "text")
                      .timings(f == null ? 0 : TimeUnit.NANOSECONDS.toMicros(f.queueNanos()), f == null ? 0 : f.computeMicros(),
                          TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - start))
                      .detail("stream", stream).detail("cut_short", f == null);
                  if (ar.succeeded()) {
                    ar.result().stream().map(Generations.Finished::workerId).distinct().forEach(event::worker);
                  }
                  if (parts > 1) {
                    event.detail("prompts", parts);
                  }
                  billed = bill(who, fn, event, Digests.text(chat ? textInput(work) : texts, out.texts()), prompt, completion,
                      f == null ? 0 : f.computeMicros());
                } else {
                  billed = Future.succeededFuture(false);
                }
                return billed.compose(b -> {
                  if (ar.succeeded()) {
                    out.finish(f, b);
                    metrics.requests(fn.name(), endpoint, 200);
                    return Future.<Void>succeededFuture();
                  }
                  if (out.started()) {
                    ApiError e = Failures.classify(ar.cause(), ctx);
                    metrics.requests(fn.name(), endpoint, e.status());
                    out.error(e);
                    return Future.<Void>succeededFuture();
                  }
                  if (ar.cause() instanceof io.inferium.engine.failure.WorkerFailure wf && "bad_input".equals(wf.code())) {
                    // The worker names the field (prompt, messages, max_tokens) in its message.
                    return Future.<Void>failedFuture(paramError(new IllegalArgumentException(wf.getMessage())));
                  }
                  return Future.<Void>failedFuture(ar.cause());
                });
              });
        })
        .onFailure(err -> {
          if (routed[0] != null) {
            metrics.requests(routed[0], endpoint, Failures.classify(err, ctx).status());
          }
          ctx.fail(err);
        });
  }

  /**
   * The generations of one request as one answer: prompt i's choices renumbered from i*n, tokens and compute summed,
   * the longest queue wait, the workers named (distinct, comma-separated: the {@code X-Inferium-Worker} header).
   */
  static Generations.Finished merge(List<Generations.Finished> parts, int n) {
    if (parts.size() == 1) {
      return parts.get(0);
    }
    List<Generations.Choice> choices = new ArrayList<>();
    int prompt = 0;
    int completion = 0;
    long compute = 0;
    long queue = 0;
    boolean cold = false;
    for (int i = 0; i < parts.size(); i++) {
      Generations.Finished f = parts.get(i);
      for (Generations.Choice c : f.choices()) {
        choices.add(new Generations.Choice(c.index() + i * n, c.finishReason(), c.completionTokens()));
      }
      prompt += f.promptTokens();
      completion += f.completionTokens();
      compute += f.computeMicros();
      queue = Math.max(queue, f.queueNanos());
      cold |= f.coldStart();
    }
    String workers = String.join(",", parts.stream().map(Generations.Finished::workerId).distinct().toList());
    return new Generations.Finished(choices, prompt, completion, compute, workers, queue, cold);
  }

  /** Each message's role and content, in order: what a chat completion event's input digest covers. */
  private static List<String> textInput(JsonObject work) {
    List<String> parts = new ArrayList<>();
    for (Object m : work.getJsonArray("messages", new JsonArray())) {
      JsonObject message = (JsonObject) m;
      parts.add(message.getString("role"));
      parts.add(message.getString("content"));
    }
    return parts;
  }

  /**
   * Emits the one completion event of an answered text request (modality text, units = prompt + completion
   * tokens); a stream cut short names no worker, so its operators' share goes to the platform. Completes
   * once the event is durable (true) or could not be recorded (false: the answer goes out unbilled and
   * says so).
   */
  private Future<Boolean> bill(Principal who, FunctionRecord fn, CompletionEvent.Builder event, Digests digests, int prompt,
      int completion, long computeUs) {
    long tokens = (long) prompt + completion;
    long charge = fn.spec().price().chargeTokens(tokens);
    metrics.tokens(fn.name(), prompt, completion);
    return completions.emit(event.tenant(who.tenantId()).charge(tokens, computeUs, charge)
        .detail("prompt_tokens", prompt).detail("completion_tokens", completion), digests).onSuccess(b -> {
          if (b) {
            limits.charged(who, charge);
          }
        });
  }

  private void embed(RoutingContext ctx) {
    long start = System.nanoTime();
    Principal who = Authentication.principal(ctx);
    JsonObject body;
    List<String> inputs;
    boolean base64;
    try {
      body = bodyOf(ctx);
      inputs = embeddingInputs(body.getValue("input"));
      Object format = body.getValue("encoding_format");
      if (format != null && !"float".equals(format) && !"base64".equals(format)) {
        throw new OpenAiErrors.ParamError("encoding_format", "field 'encoding_format': expected float or base64, got " + format);
      }
      base64 = "base64".equals(format);
    } catch (ApiError e) {
      ctx.fail(e);
      return;
    }
    String modelName = body.getValue("model") instanceof String s ? s : null;
    String[] routed = {null};
    Future.succeededFuture()
        .compose(v -> {
          limits.request(who, ctx.response());
          return limits.monthly(who).compose(x -> resolve(ctx, modelName, FunctionKind.EMBEDDING));
        })
        .compose(fn -> {
          routed[0] = fn.name();
          long total = 0;
          for (String input : inputs) {
            total += PromptLimits.utf8Bytes(input);
          }
          prompts.check(fn, "input", total);
          return embeddings.embed(fn, inputs, start + TimeUnit.MILLISECONDS.toNanos(fn.spec().timeoutMs()))
              .compose(result -> {
                long dim = result.vectors().shape()[1];
                Object requested = body.getValue("dimensions");
                if (requested != null && !Long.valueOf(dim).equals(requested instanceof Number n ? n.longValue() : null)) {
                  throw new OpenAiErrors.ParamError("dimensions", "field 'dimensions': model '" + fn.name() + "' gives "
                      + dim + "-dimensional embeddings and cannot shorten them; got " + requested);
                }
                String id = "emb-" + UUID.randomUUID();
                CompletionEvent.Builder event = CompletionEvent.builder(id, fn).endpoint("embeddings", "text")
                    .worker(result.workerId())
                    .timings(0, result.computeMicros(), TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - start))
                    .detail("inputs", inputs.size());
                return bill(who, fn, event, Digests.textToTensors(inputs, List.of(result.vectors())), result.promptTokens(),
                    0, result.computeMicros()).map(billed -> {
                  JsonArray data = new JsonArray();
                  java.nio.ByteBuffer all = result.vectors().view().order(java.nio.ByteOrder.LITTLE_ENDIAN);
                  for (int i = 0; i < inputs.size(); i++) {
                    java.nio.ByteBuffer row = all.duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN);
                    row.position((int) (i * dim * 4)).limit((int) ((i + 1) * dim * 4));
                    Object embedding;
                    if (base64) {
                      byte[] bytes = new byte[row.remaining()];
                      row.get(bytes);
                      embedding = java.util.Base64.getEncoder().encodeToString(bytes);
                    } else {
                      JsonArray values = new JsonArray();
                      while (row.hasRemaining()) {
                        values.add(row.getFloat());
                      }
                      embedding = values;
                    }
                    data.add(new JsonObject().put("object", "embedding").put("index", i).put("embedding", embedding));
                  }
                  metrics.endToEnd(fn.name(), System.nanoTime() - start);
                  metrics.requests(fn.name(), "embeddings", 200);
                  ctx.response().putHeader("X-Inferium-Request-Id", id).putHeader("X-Inferium-Worker", result.workerId())
                      .putHeader(Billed.HEADER, Boolean.toString(billed));
                  if (result.verdict() != null) {
                    ctx.response().putHeader("X-Inferium-Verdict", result.verdict());
                  }
                  FunctionRoutes.json(ctx, 200, new JsonObject().put("object", "list").put("data", data).put("model", fn.name())
                      .put("usage", new JsonObject().put("prompt_tokens", result.promptTokens())
                          .put("total_tokens", result.promptTokens())));
                  return null;
                });
              });
        })
        .onFailure(err -> {
          if (routed[0] != null) {
            metrics.requests(routed[0], "embeddings", Failures.classify(err, ctx).status());
          }
          ctx.fail(err);
        });
  }

  private static List<String> embeddingInputs(Object input) {
    List<String> out = new ArrayList<>();
    if (input instanceof String s) {
      out.add(s);
    } else if (input instanceof JsonArray a && !a.isEmpty() && a.size() <= MAX_EMBEDDING_INPUTS) {
      for (int i = 0; i < a.size(); i++) {
        if (!(a.getValue(i) instanceof String s)) {
          throw new OpenAiErrors.ParamError("input", "field 'input[" + i + "]': expected a string (token arrays are not "
              + "supported), got " + a.getValue(i));
        }
        out.add(s);
      }
    } else {
      throw new OpenAiErrors.ParamError("input", "field 'input': expected a string or an array of 1 to "
          + MAX_EMBEDDING_INPUTS + " strings, got " + (input == null ? "nothing"
              : input instanceof JsonArray a ? "an array of " + a.size() + " items" : input));
    }
    for (int i = 0; i < out.size(); i++) {
      if (out.get(i).isEmpty()) {
        throw new OpenAiErrors.ParamError("input", "field 'input[" + i + "]': empty strings cannot be embedded");
      }
    }
    return out;
  }
}
