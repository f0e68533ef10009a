package io.inferium.node;

import io.inferium.functions.protocol.Frame;
import io.inferium.functions.protocol.FrameType;
import io.inferium.functions.generation.EmbeddingModel;
import io.inferium.functions.generation.LogLikelihood;
import io.inferium.functions.generation.TextModel;
import io.inferium.functions.tensor.DataType;
import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.seal.OutputHash;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.function.Consumer;

/**
 * The worker's answers to text requests that are not generations: EMBED (vectors) and SCORE
 * (continuation log-likelihoods), each a RESULT sealed like an INFER result.
 */
final class TextAnswers {

  private final TextHost text;
  private final Consumer<Frame> send;
  private final Results results;
  private final String nodeId;

  /** Sends a RESULT frame and seals it with the others of its window. */
  interface Results {
    void send(Frame result, String modelSha256, String outputSha256);
  }

  TextAnswers(TextHost text, Consumer<Frame> send, Results results, String nodeId) {
    this.text = text;
    this.results = results;
    this.send = send;
    this.nodeId = nodeId;
  }

  /** A SCORE request: queued on the function's decode thread, to run between two decode steps. */
  void score(Frame frame) {
    long id = frame.correlationId();
    GenerationEngine engine = text.generator(frame.meta().getString("sha256"));
    if (engine == null) {
      send.accept(Frame.error(id, "not_loaded", "model " + frame.meta().getString("sha256") + " is not loaded on worker "
          + nodeId));
    } else if (tooLongToScore(frame, engine.model())) {
      // Scoring tokenizes on the decode thread: text that cannot fit the context is refused before it gets there.
      send.accept(Frame.error(id, "bad_input", "field 'context': context and continuations hold more than "
          + (long) engine.model().maxContext() * GenerationEngine.MAX_TEXT_PER_TOKEN + " characters, more than the model's "
          + engine.model().maxContext() + "-token context can hold"));
    } else if (!engine.runBetweenSteps(() -> score(frame, engine.model()))) {
      send.accept(Frame.error(id, "overloaded", "worker " + nodeId + " cannot take more work for this model"));
    }
  }

  private static boolean tooLongToScore(Frame frame, TextModel model) {
    long chars = frame.meta().getString("context", "").length();
    for (Object c : frame.meta().getJsonArray("continuations", new JsonArray())) {
      chars += String.valueOf(c).length();
    }
    return chars > (long) model.maxContext() * GenerationEngine.MAX_TEXT_PER_TOKEN;
  }

  /** Log-likelihood of each continuation after the context, as a signed FP64 [continuations] result. */
  private void score(Frame frame, TextModel model) {
    long id = frame.correlationId();
    String sha = frame.meta().getString("sha256");
    long start = System.nanoTime();
    try {
      String context = frame.meta().getString("context", "");
      JsonArray continuations = frame.meta().getJsonArray("continuations", new JsonArray());
      ByteBuffer data = ByteBuffer.allocate(continuations.size() * 8).order(ByteOrder.LITTLE_ENDIAN);
      JsonArray tokens = new JsonArray();
      JsonArray greedy = new JsonArray();
      int processed = 0;
      for (Object c : continuations) {
        var s = LogLikelihood.score(model, context, String.valueOf(c));
        data.putDouble(s.logLikelihood());
        tokens.add(s.tokens());
        greedy.add(s.greedy());
        processed += model.tokenizer().encode(context + c).length;
      }
      List<Tensor> out = List.of(new Tensor("log_likelihoods", DataType.FP64,
          new long[] {continuations.size()}, data.flip()));
      String outputHash = OutputHash.of(out);
      results.send(new Frame(FrameType.RESULT, id, new JsonObject().put("compute_us", (System.nanoTime() - start) / 1000)
          .put("prompt_tokens", processed).put("tokens", tokens).put("greedy", greedy)
          .put("output_sha256", outputHash), out), sha, outputHash);
    } catch (IllegalArgumentException e) {
      send.accept(Frame.error(id, "bad_input", e.getMessage()));
    } catch (Exception e) {
      send.accept(Frame.error(id, "model_error", e.getMessage()));
    }
  }

  /** An EMBED request: the vectors as one signed FP32 [inputs, dimensions] result. Runs on the caller's (an ORT) thread. */
  void embed(Frame frame) {
    long id = frame.correlationId();
    String sha = frame.meta().getString("sha256");
    EmbeddingModel model = text.embedder(sha);
    if (model == null) {
      send.accept(Frame.error(id, "not_loaded", "model " + sha + " is not loaded on worker " + nodeId));
      return;
    }
    List<String> inputs = frame.meta().getJsonArray("input", new JsonArray()).stream().map(String::valueOf).toList();
    long start = System.nanoTime();
    try {
      var result = model.embed(inputs, frame.meta().getString("pooling", "mean"), frame.meta().getBoolean("normalize", true));
      float[][] vectors = result.vectors();
      int dim = vectors.length == 0 ? 0 : vectors[0].length;
      ByteBuffer data = ByteBuffer.allocate(vectors.length * dim * 4).order(ByteOrder.LITTLE_ENDIAN);
      for (float[] v : vectors) {
        for (float x : v) {
          data.putFloat(x);
        }
      }
      List<Tensor> out = List.of(new Tensor("embeddings", DataType.FP32,
          new long[] {vectors.length, dim}, data.flip()));
      String outputHash = OutputHash.of(out);
      results.send(new Frame(FrameType.RESULT, id, new JsonObject().put("compute_us", (System.nanoTime() - start) / 1000)
          .put("prompt_tokens", result.promptTokens())
          .put("output_sha256", outputHash), out), sha, outputHash);
    } catch (IllegalArgumentException e) {
      send.accept(Frame.error(id, "bad_input", e.getMessage()));
    } catch (Exception e) {
      send.accept(Frame.error(id, "model_error", e.getMessage()));
    }
  }
}
