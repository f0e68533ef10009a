package io.inferium.node;

import io.inferium.functions.generation.ChatMessage;
import io.inferium.functions.generation.DecodeLoop;
import io.inferium.functions.generation.GenerationListener;
import io.inferium.functions.SamplingParams;
import io.inferium.functions.generation.TextModel;
import io.inferium.functions.protocol.TokensFrame;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One text-generation function on one worker: a decode thread that owns the model's
 * {@link DecodeLoop} and runs its steps while any sequence is running. Requests and cancels arrive
 * through an inbox and join at the next step boundary (continuous batching); tokens leave through the
 * {@link Sink} as they are sampled.
 *
 * <p>A request's prompt is prepared (chat template rendered, text tokenized, length checked against
 * the context) on a small bounded pool of its own, never on the decode thread: a huge prompt delays
 * only itself, not the sequences being decoded. Preparation has a time limit ({@link #PREPARE_TIMEOUT_MS});
 * a request cancelled before it reached the decode loop is answered {@code cancelled} at once, so time
 * spent before a run starts is never time a cancel waits for.
 */
final class GenerationEngine {

  private static final Logger log = LoggerFactory.getLogger(GenerationEngine.class);
  /** Sequence ids are request id × this + choice index, so one request may ask for up to this many choices. */
  static final int MAX_CHOICES = 8;
  private static final int INBOX_LIMIT = 4096;
  /** Threads and queue of the prompt-preparation pool (per text function on a worker). */
  static final int PREPARE_THREADS = 2;
  static final int PREPARE_QUEUE = 64;
  /**
   * Characters per context token beyond which text cannot fit the context whatever the tokenizer
   * (real text averages about four per token; the gateway's byte cap uses the same ratio).
   */
  static final int MAX_TEXT_PER_TOKEN = 16;
  /** A prompt whose template and tokenization take longer than this is answered {@code bad_input}. */
  static final long PREPARE_TIMEOUT_MS = 5_000;
  /** The engines' one timer: a prompt's preparation limit, and held tokens that come due inside a long step. */
  private static final java.util.concurrent.ScheduledExecutorService TIMER =
      java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "inferium-engine-timer");
        t.setDaemon(true);
        return t;
      });

  /** Where a generation's tokens, end and failure go (the worker's connection). */
  interface Sink {
    /** Tokens sampled since the last call, in the order they were sampled. */
    void tokens(List<TokensFrame.Token> tokens);

    /** All choices finished: {@code meta} has choices, prompt and completion tokens, compute_us. */
    void done(long requestId, JsonObject meta, List<int[]> tokens);

    void error(long requestId, String code, String message);
  }

  /** A request's choices as they progress; touched only on the decode thread. */
  private static final class Request {
    final long started = System.nanoTime();
    final int n;
    final List<List<Integer>> tokens = new ArrayList<>();
    final String[] finish;
    /** How long its tokens may be held to leave with others (nanoseconds). */
    long windowNanos;
    int promptTokens;
    int finished;
    boolean cancelled;

    Request(int n) {
      this.n = n;
      this.finish = new String[n];
      for (int i = 0; i < n; i++) {
        tokens.add(new ArrayList<>());
      }
    }
  }

  private final String sha256;
  private final TextModel model;
  private final DecodeLoop loop;
  private final Sink sink;
  private final LinkedBlockingQueue<Runnable> inbox = new LinkedBlockingQueue<>(INBOX_LIMIT);
  private final Map<Long, Request> requests = new HashMap<>();
  private final Set<Long> known = ConcurrentHashMap.newKeySet();
  /** Accepted and not yet in the decode loop (preparing, or prepared and waiting in the inbox); removing an id claims it. */
  private final Set<Long> notStarted = ConcurrentHashMap.newKeySet();
  private final Set<Long> preparing = ConcurrentHashMap.newKeySet();
  private final java.util.concurrent.ThreadPoolExecutor prepare;
  private final Thread thread;
  private volatile boolean closed;
  /** The longest window a GENERATE frame may ask for (as {@code TextOptions.MAX_TOKEN_WINDOW_MS}: a spec allows no more). */
  static final long MAX_TOKEN_WINDOW_MS = 250;
  /**
   * How long a sampled token may be held so that it leaves with others, when the GENERATE frame does not say
   * ({@code token_window_ms}, the function's {@code text.token_window_ms}): {@code -Dinferium.tokens.windowUs}, default
   * 2 ms; 0 sends every decode step's tokens at once. A frame, and the gateway's write to each client it feeds, costs
   * the same for one token as for several. A stream's first token and a generation's last ones never wait, and leave
   * alone (the other streams' held tokens stay held); held tokens leave when the first of them is due (each is due a
   * window after it was sampled, by its own request's window), sent by a timer if a long step (a joining prompt's
   * prefill) is still running then.
   */
  static final long TOKEN_WINDOW_NANOS = TimeUnit.MICROSECONDS.toNanos(Long.getLong("inferium.tokens.windowUs", 2_000));
  /**
   * The tokens not yet sent, in the order they were sampled; guarded by {@link #heldLock}, and a frame is handed to the
   * sink while holding it, so a generation's tokens always precede its RESULT.
   */
  private List<TokensFrame.Token> held = new ArrayList<>();
  private final Object heldLock = new Object();
  /** When the first held token is due to leave (guarded by {@link #heldLock}). */
  private long heldDueNanos;
  /** Whether a timer is set, and for when (guarded by {@link #heldLock}). */
  private boolean timerSet;
  private long timerDueNanos;
  /** Requests whose first token is held (decode thread only): they leave after the step, ahead of the window. */
  private final Set<Long> firstHeld = new java.util.HashSet<>();
  private final long tokenWindowNanos;
  /** Decode steps run and tokens they produced: their ratio is how full continuous batching keeps a step. */
  private final java.util.concurrent.atomic.AtomicLong steps = new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong tokens = new java.util.concurrent.atomic.AtomicLong();

  GenerationEngine(String sha256, TextModel model, int maxRunning, int maxTokensPerStep, Sink sink) {
    this(sha256, model, maxRunning, maxTokensPerStep, sink, TOKEN_WINDOW_NANOS);
  }

  GenerationEngine(String sha256, TextModel model, int maxRunning, int maxTokensPerStep, Sink sink, long tokenWindowNanos) {
    this.tokenWindowNanos = tokenWindowNanos;
    this.sha256 = sha256;
    this.model = model;
    this.sink = sink;
    this.loop = new DecodeLoop(model, maxRunning, maxTokensPerStep, true);
    java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
    this.prepare = new java.util.concurrent.ThreadPoolExecutor(PREPARE_THREADS, PREPARE_THREADS, 0, TimeUnit.SECONDS,
        new java.util.concurrent.ArrayBlockingQueue<>(PREPARE_QUEUE), r -> {
          Thread t = new Thread(null, r, "inferium-prompt-" + sha256.substring(0, 8) + "-" + n.incrementAndGet(),
              WorkerProcess.ORT_STACK_BYTES);
          t.setDaemon(true);
          return t;
        });
    this.thread = new Thread(null, this::run, "inferium-decode-" + sha256.substring(0, 8), WorkerProcess.ORT_STACK_BYTES);
    thread.setDaemon(true);
    thread.start();
  }

  TextModel model() {
    return model;
  }

  long steps() {
    return steps.get();
  }

  long tokens() {
    return tokens.get();
  }

  /** Generations this engine has accepted and not yet finished. */
  int active() {
    return known.size();
  }

  /**
   * Queues a GENERATE request: {@code prompt} (text) or {@code messages} (chat), {@code params}, and
   * {@code strict_context} (the client chose {@code max_tokens}, so prompt + max_tokens must fit the
   * context). False when the preparation pool is full or the engine closed.
   */
  boolean submit(long requestId, JsonObject meta) {
    known.add(requestId);
    notStarted.add(requestId);
    preparing.add(requestId);
    try {
      if (closed) {
        throw new java.util.concurrent.RejectedExecutionException("closed");
      }
      prepare.execute(() -> prepare(requestId, meta));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      known.remove(requestId);
      notStarted.remove(requestId);
      preparing.remove(requestId);
      return false;
    }
    return true;
  }

  /**
   * Runs {@code task} on the decode thread between steps (scoring a continuation, which needs the
   * model but no decode slot); false when the inbox is full or the engine closed.
   */
  boolean runBetweenSteps(Runnable task) {
    return !closed && inbox.offer(task);
  }

  /** Stops a generation at the next step; false if this engine does not know it. */
  boolean cancel(long requestId) {
    if (!known.contains(requestId)) {
      return false;
    }
    if (notStarted.remove(requestId)) {
      // Not yet in the decode loop: nothing runs for it, so the cancel is answered now, not after a step.
      known.remove(requestId);
      sink.error(requestId, "cancelled", "cancelled before it started");
      return true;
    }
    inbox.offer(() -> {
      Request r = requests.get(requestId);
      if (r != null) {
        r.cancelled = true;
        for (int i = 0; i < r.n; i++) {
          loop.cancel(requestId * MAX_CHOICES + i);
        }
      }
    });
    return true;
  }

  void close() {
    closed = true;
    prepare.shutdownNow();
    thread.interrupt();
  }

  /** Waits up to {@code millis} for the decode thread to finish after {@link #close}; true when it has. */
  boolean awaitClosed(long millis) throws InterruptedException {
    thread.join(millis);
    return !thread.isAlive();
  }

  private void run() {
    try {
      while (!closed) {
        Runnable next = loop.running() + loop.waiting() == 0 ? inbox.poll(1, TimeUnit.SECONDS) : inbox.poll();
        while (next != null) {
          next.run();
          next = inbox.poll();
        }
        if (loop.running() + loop.waiting() > 0) {
          try {
            steps.incrementAndGet();
            loop.step();
          } catch (Exception e) {
            log.error("decode step failed", e);
            failAll("model_error", "the decode step failed: " + e.getMessage());
          }
          sendFirstTokens();
          sendHeldIfDue();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      prepare.shutdownNow();
      for (Long id : List.copyOf(notStarted)) {
        if (notStarted.remove(id)) {
          known.remove(id);
          sink.error(id, "cancelled", "the function was unloaded from this worker");
        }
      }
      failAll("cancelled", "the function was unloaded from this worker");
      closeModelAfterPreparation();
    }
  }

  /**
   * Closes the model once no preparation thread uses its tokenizer: a native tokenizer freed under a
   * running encode aborts the whole process. Tokenizing cannot be interrupted, but its input is
   * bounded, so this waits; if it somehow does not end, the model is left open (a leak, not a crash).
   */
  private void closeModelAfterPreparation() {
    boolean interrupted = Thread.interrupted(); // close() interrupted this thread; waiting needs the flag clear
    try {
      if (!prepare.awaitTermination(PREPARE_TIMEOUT_MS * 12, TimeUnit.MILLISECONDS)) {
        log.warn("prompt preparation of {} still running after {} ms; its model is left open", sha256,
            PREPARE_TIMEOUT_MS * 12);
        return;
      }
      model.close();
    } catch (InterruptedException e) {
      interrupted = true;
      log.warn("interrupted while waiting for prompt preparation of {}; its model is left open", sha256);
    } catch (Exception e) {
      log.warn("closing a text model failed: {}", e.toString());
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** On the decode thread, for each token sampled: holds it for at most {@code windowNanos}. */
  private void hold(TokensFrame.Token token, long windowNanos) {
    synchronized (heldLock) {
      long now = System.nanoTime();
      long due = now + windowNanos;
      if (held.isEmpty() || due - heldDueNanos < 0) {
        heldDueNanos = due;
      }
      held.add(token);
      if (windowNanos > 0 && (!timerSet || heldDueNanos - timerDueNanos < 0)) {
        timerSet = true;
        timerDueNanos = heldDueNanos;
        TIMER.schedule(this::sendHeldOnTime, heldDueNanos - now, TimeUnit.NANOSECONDS);
      }
    }
  }

  /** After a step: sends every held token once the first is due. */
  private void sendHeldIfDue() {
    synchronized (heldLock) {
      if (!held.isEmpty() && System.nanoTime() - heldDueNanos >= 0) {
        sendHeld();
      }
    }
  }

  /** On the timer: held tokens came due (perhaps inside a long step); sends them, or sets itself again. */
  private void sendHeldOnTime() {
    synchronized (heldLock) {
      timerSet = false;
      if (held.isEmpty() || closed) {
        return;
      }
      long left = heldDueNanos - System.nanoTime();
      if (left > 0) {
        timerSet = true;
        timerDueNanos = heldDueNanos;
        TIMER.schedule(this::sendHeldOnTime, left, TimeUnit.NANOSECONDS);
        return;
      }
      sendHeld();
    }
  }

  /** Sends all held tokens in one frame (holding {@link #heldLock}). */
  private void sendHeld() {
    if (!held.isEmpty()) {
      List<TokensFrame.Token> frame = held;
      held = new ArrayList<>();
      sink.tokens(frame);
    }
  }

  /** After a step: the streams that got their first token send their held tokens now (time to first token never waits). */
  private void sendFirstTokens() {
    if (!firstHeld.isEmpty()) {
      sendOnly(firstHeld);
      firstHeld.clear();
    }
  }

  /**
   * Sends the held tokens of {@code requestIds} alone, in one frame, leaving the others' held: always before a
   * generation's end, so its last tokens precede its RESULT.
   */
  private void sendOnly(Set<Long> requestIds) {
    synchronized (heldLock) {
      List<TokensFrame.Token> mine = new ArrayList<>();
      List<TokensFrame.Token> rest = new ArrayList<>();
      for (TokensFrame.Token t : held) {
        (requestIds.contains(t.requestId()) ? mine : rest).add(t);
      }
      if (!mine.isEmpty()) {
        held = rest;
        sink.tokens(mine);
      }
    }
  }

  private void sendOnly(long requestId) {
    sendOnly(Set.of(requestId));
  }

  private void failAll(String code, String message) {
    synchronized (heldLock) {
      sendHeld();
    }
    for (Long id : List.copyOf(requests.keySet())) {
      Request r = requests.remove(id);
      for (int i = 0; i < r.n; i++) {
        loop.cancel(id * MAX_CHOICES + i);
      }
      known.remove(id);
      sink.error(id, code, message);
    }
  }

  /** On the preparation pool: template, tokenizer and context checks, then the request joins the decode thread's inbox. */
  private void prepare(long requestId, JsonObject meta) {
    if (!notStarted.contains(requestId)) {
      preparing.remove(requestId);
      return; // cancelled while queued for preparation
    }
    // The limit counts from here, not from the queue: waiting behind another prompt is not this one's fault.
    java.util.concurrent.ScheduledFuture<?> limit = TIMER.schedule(() -> {
      if (preparing.contains(requestId) && notStarted.remove(requestId)) {
        known.remove(requestId);
        sink.error(requestId, "bad_input", "preparing the prompt (chat template and tokenizer) took longer than "
            + PREPARE_TIMEOUT_MS + " ms; send a shorter prompt");
      }
    }, PREPARE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
    try {
      prepareNow(requestId, meta);
    } finally {
      limit.cancel(false);
    }
  }

  private void prepareNow(long requestId, JsonObject meta) {
    int[] prompt;
    SamplingParams params;
    try {
      params = SamplingParams.fromJson(meta.getJsonObject("params", new JsonObject()));
      String text;
      JsonArray messages = meta.getJsonArray("messages");
      if (messages != null) {
        List<ChatMessage> chat = new ArrayList<>();
        for (int i = 0; i < messages.size(); i++) {
          JsonObject m = messages.getJsonObject(i);
          chat.add(new ChatMessage(m.getString("role"), m.getString("content", "")));
        }
        text = model.chatTemplate().render(chat, true);
      } else {
        text = meta.getString("prompt", "");
      }
      prompt = model.tokenizer().encode(text);
      if (prompt.length == 0) {
        throw new IllegalArgumentException("the prompt encodes to no tokens");
      }
      checkContext(prompt.length, params, messages != null, meta.getBoolean("strict_context", false));
    } catch (RuntimeException e) {
      preparing.remove(requestId);
      if (notStarted.remove(requestId)) {
        known.remove(requestId);
        sink.error(requestId, "bad_input", e.getMessage());
      }
      return;
    }
    preparing.remove(requestId);
    if (!notStarted.contains(requestId)) {
      return; // cancelled or timed out while preparing
    }
    int[] ids = prompt;
    SamplingParams p = params;
    long window = windowNanos(meta);
    if (closed || !inbox.offer(() -> start(requestId, ids, p, window))) {
      if (notStarted.remove(requestId)) {
        known.remove(requestId);
        sink.error(requestId, "overloaded", "this worker's decode inbox is full");
      }
    }
  }

  /** The request's {@code token_window_ms} (clamped to what a spec may set), or this engine's default. */
  private long windowNanos(JsonObject meta) {
    Object ms = meta.getValue("token_window_ms");
    if (!(ms instanceof Number n)) {
      return tokenWindowNanos;
    }
    return TimeUnit.MILLISECONDS.toNanos(Math.max(0, Math.min(n.longValue(), MAX_TOKEN_WINDOW_MS)));
  }

  /**
   * The prompt must leave room for at least one generated token, and when the client chose
   * {@code max_tokens}, prompt + max_tokens must fit the context (as OpenAI's API answers).
   */
  private void checkContext(int promptTokens, SamplingParams params, boolean chat, boolean strict) {
    int context = model.maxContext();
    String field = chat ? "messages" : "prompt";
    if (promptTokens >= context) {
      throw new IllegalArgumentException("field '" + field + "': the prompt has " + promptTokens + " tokens; this model's "
          + "context length is " + context + " tokens, and the prompt must leave room for at least one generated token");
    }
    if (strict && params.maxTokens() != SamplingParams.UNLIMITED_TOKENS && (long) promptTokens + params.maxTokens() > context) {
      throw new IllegalArgumentException("field 'max_tokens': " + promptTokens + " prompt tokens + max_tokens "
          + params.maxTokens() + " = " + ((long) promptTokens + params.maxTokens()) + " exceed this model's context length of "
          + context + " tokens");
    }
  }

  /** On the decode thread: the prepared request joins the loop, unless a cancel claimed it first. */
  private void start(long requestId, int[] prompt, SamplingParams params, long windowNanos) {
    if (!notStarted.remove(requestId)) {
      return;
    }
    int n = Math.max(1, Math.min(params.n(), MAX_CHOICES));
    Request r = new Request(n);
    r.promptTokens = prompt.length;
    r.windowNanos = windowNanos;
    requests.put(requestId, r);
    for (int i = 0; i < n; i++) {
      SamplingParams p = params.seed() == null || i == 0 ? params : new SamplingParams(params.maxTokens(),
          params.temperature(), params.topP(), params.topK(), params.stop(), params.seed() + i, params.presencePenalty(),
          params.frequencyPenalty(), params.repetitionPenalty(), params.n());
      loop.submit(requestId * MAX_CHOICES + i, prompt, p, listener);
    }
  }

  private final GenerationListener listener = new GenerationListener() {
    @Override
    public void onToken(long id, int tokenId, String textDelta) {
      Request r = requests.get(id / MAX_CHOICES);
      if (r != null && !r.cancelled) {
        int index = (int) (id % MAX_CHOICES);
        r.tokens.get(index).add(tokenId);
        if (r.tokens.get(index).size() == 1) {
          firstHeld.add(id / MAX_CHOICES);
        }
        tokens.incrementAndGet();
        hold(new TokensFrame.Token(id / MAX_CHOICES, index, tokenId, textDelta, r.promptTokens), r.windowNanos);
      }
    }

    @Override
    public void onFinish(long id, String finishReason, int promptTokens, int completionTokens) {
      long requestId = id / MAX_CHOICES;
      Request r = requests.get(requestId);
      if (r == null) {
        return;
      }
      r.finish[(int) (id % MAX_CHOICES)] = finishReason;
      if (++r.finished < r.n) {
        return;
      }
      requests.remove(requestId);
      known.remove(requestId);
      firstHeld.remove(requestId);
      sendOnly(requestId);
      if (r.cancelled) {
        sink.error(requestId, "cancelled", "the generation was cancelled");
        return;
      }
      JsonArray choices = new JsonArray();
      int completion = 0;
      List<int[]> ids = new ArrayList<>();
      for (int i = 0; i < r.n; i++) {
        int[] t = r.tokens.get(i).stream().mapToInt(Integer::intValue).toArray();
        ids.add(t);
        completion += t.length;
        choices.add(new JsonObject().put("index", i).put("finish_reason", r.finish[i]).put("completion_tokens", t.length));
      }
      sink.done(requestId, new JsonObject().put("sha256", sha256).put("choices", choices).put("prompt_tokens", r.promptTokens)
          .put("completion_tokens", completion).put("compute_us", (System.nanoTime() - r.started) / 1000), ids);
    }

    @Override
    public void onError(long id, Exception e) {
      long requestId = id / MAX_CHOICES;
      Request r = requests.remove(requestId);
      if (r == null) {
        return;
      }
      for (int i = 0; i < r.n; i++) {
        loop.cancel(requestId * MAX_CHOICES + i);
      }
      known.remove(requestId);
      firstHeld.remove(requestId);
      sendOnly(requestId);
      sink.error(requestId, e instanceof IllegalArgumentException ? "bad_input" : "model_error", e.getMessage());
    }
  };
}
