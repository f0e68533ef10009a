package io.inferium.loadtest;

import ai.onnxruntime.OrtSession;
import io.inferium.functions.generation.DecodeLoop;
import io.inferium.functions.generation.GenerationListener;
import io.inferium.functions.SamplingParams;
import io.inferium.functions.generation.TextModel;
import io.inferium.functions.ExecutionDevice;
import io.inferium.functions.runtime.OnnxRunner;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * The streaming benchmark's baseline: the worker's {@link DecodeLoop} driven in this JVM, no
 * gateway, no worker hop, no HTTP. The model is loaded with the worker's session options (same
 * intra-op threads) and stepped on one thread with an 8 MiB stack, as the worker's decode thread
 * is. Requests are built from the same OpenAI body the clients send, through the same
 * {@link SamplingParams#fromOpenAi} with the function's generation config, so both sides decode
 * the same tokens.
 */
final class InProcessDecode implements AutoCloseable {

  private final TextModel model;
  private final int maxTokensPerStep;

  private InProcessDecode(TextModel model, int maxTokensPerStep) {
    this.model = model;
    this.maxTokensPerStep = maxTokensPerStep;
  }

  /** Loads the text model in {@code dir} with {@code intraOpThreads} ONNX Runtime threads, as a worker would. */
  static InProcessDecode load(Path dir, int intraOpThreads, int maxTokensPerStep) throws Exception {
    OnnxRunner runner = OnnxRunner.create(ExecutionDevice.CPU, intraOpThreads);
    return OrtCeiling.onBigStack(() -> {
      try (OrtSession.SessionOptions options = runner.sessionOptions()) {
        return new InProcessDecode(TextModel.load(runner.environment(), dir, options), maxTokensPerStep);
      }
    });
  }

  /** The prompt's token ids, as the worker encodes a completions prompt. */
  int[] encode(String prompt) {
    return model.tokenizer().encode(prompt);
  }

  SamplingParams params(JsonObject openAiBody) {
    return SamplingParams.fromOpenAi(openAiBody, model.generationConfig());
  }

  /**
   * The model's own time to first token: {@code runs} single sequences on an idle loop, each timed
   * from submit to its first sampled token (admission, prefill of the whole prompt, sampling), after
   * a few unrecorded ones. Microseconds.
   */
  Histogram prefill(int[] prompt, SamplingParams params, int runs) throws Exception {
    return OrtCeiling.onBigStack(() -> {
      Histogram h = new Histogram(Recording.MAX_MICROS, 3);
      DecodeLoop loop = new DecodeLoop(model, 1, maxTokensPerStep, true);
      SamplingParams one = withMaxTokens(params, 1);
      long[] first = new long[1];
      GenerationListener listener = new Listener() {
        @Override
        public void onToken(long id, int tokenId, String textDelta) {
          if (first[0] == 0) {
            first[0] = System.nanoTime();
          }
        }
      };
      int warm = Math.max(3, runs / 5);
      for (int i = 0; i < warm + runs; i++) {
        first[0] = 0;
        long t0 = System.nanoTime();
        loop.submit(i, prompt, one, listener);
        while (loop.step()) {
          // steps until the one-token sequence has left
        }
        if (first[0] == 0) {
          throw new IllegalStateException("a one-token generation produced no token");
        }
        if (i >= warm) {
          h.recordValue(Math.min(Recording.MAX_MICROS, (first[0] - t0) / 1000));
        }
      }
      return h;
    });
  }

  /**
   * {@code concurrency} sequences at once in a closed loop: a finished sequence is replaced at the
   * next step boundary by a new one with the same prompt, as a client sends its next request when
   * its stream ends. After the window every running sequence is cancelled.
   */
  StreamingResult closedLoop(String label, int concurrency, int[] prompt, SamplingParams params, Duration warmup,
      Duration duration, long maxGenerations) throws Exception {
    return OrtCeiling.onBigStack(() -> {
      DecodeLoop loop = new DecodeLoop(model, concurrency, maxTokensPerStep, true);
      long windowStart = System.nanoTime() + warmup.toNanos();
      long end = windowStart + duration.toNanos();
      StreamRecording rec = new StreamRecording(windowStart, end);
      Map<Long, StreamRecording.Stream> streams = new HashMap<>();
      long[] failures = new long[1];
      GenerationListener listener = new GenerationListener() {
        @Override
        public void onToken(long id, int tokenId, String textDelta) {
          if (!textDelta.isEmpty()) {
            streams.get(id).token(System.nanoTime());
          }
        }

        @Override
        public void onFinish(long id, String finishReason, int promptTokens, int completionTokens) {
          StreamRecording.Stream s = streams.remove(id);
          if (!"cancelled".equals(finishReason)) {
            s.finished(System.nanoTime(), completionTokens);
          }
        }

        @Override
        public void onError(long id, Exception e) {
          streams.remove(id);
          failures[0]++;
          rec.error(e.getClass().getSimpleName() + ": " + e.getMessage(), System.nanoTime());
        }
      };
      long submitted = 0;
      boolean stopping = false;
      while (true) {
        long now = System.nanoTime();
        if (!stopping && (now >= end || submitted >= maxGenerations || failures[0] > 100)) {
          stopping = true;
          new ArrayList<>(streams.keySet()).forEach(loop::cancel);
        }
        while (!stopping && streams.size() < concurrency) {
          long id = submitted++;
          streams.put(id, rec.open(System.nanoTime()));
          loop.submit(id, prompt, params, listener);
        }
        if (streams.isEmpty() && loop.running() + loop.waiting() == 0) {
          break;
        }
        loop.step();
      }
      return rec.result(label, concurrency);
    });
  }

  private static SamplingParams withMaxTokens(SamplingParams p, int maxTokens) {
    return new SamplingParams(maxTokens, p.temperature(), p.topP(), p.topK(), p.stop(), p.seed(), p.presencePenalty(),
        p.frequencyPenalty(), p.repetitionPenalty(), p.n());
  }

  @Override
  public void close() throws Exception {
    model.close();
  }

  /** Ignores what a measurement does not need. */
  private abstract static class Listener implements GenerationListener {
    @Override
    public void onFinish(long id, String finishReason, int promptTokens, int completionTokens) {}

    @Override
    public void onError(long id, Exception e) {}
  }
}
