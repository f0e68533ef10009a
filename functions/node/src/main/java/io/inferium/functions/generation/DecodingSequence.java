package io.inferium.functions.generation;

import io.inferium.functions.SamplingParams;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Set;

/**
 * One request's state inside {@link DecodeLoop}: its tokens, cache, sampler and text stream, and
 * the rules that end it (end-of-sequence token, stop string, max tokens, full context).
 */
final class DecodingSequence {

  final long id;
  final int[] prompt;
  final SamplingParams params;
  final GenerationListener listener;
  private final Sampler sampler;
  private final TextStream text;
  private final Set<Integer> eos;
  private final int maxContext;
  KvCache cache;
  private int[] tokens;
  private int generated;
  private String finishReason;

  DecodingSequence(long id, int[] prompt, SamplingParams params, GenerationListener listener, TextModel model) {
    this.id = id;
    this.prompt = prompt;
    this.params = params;
    this.listener = listener;
    this.sampler = new Sampler(params, prompt);
    this.text = new TextStream(model.tokenizer(), params.stop());
    this.eos = model.tokenizer().eosTokenIds();
    this.maxContext = model.maxContext();
    this.tokens = Arrays.copyOf(prompt, prompt.length + 16);
  }

  /** Prompt plus generated tokens. */
  int length() {
    return prompt.length + generated;
  }

  /** The whole sequence so far, for recomputation without a cache. */
  int[] allTokens() {
    return Arrays.copyOf(tokens, length());
  }

  /** The last sampled token: the next step's input. */
  int pendingToken() {
    return tokens[length() - 1];
  }

  int generated() {
    return generated;
  }

  boolean finished() {
    return finishReason != null;
  }

  /** Samples the next token from a logits row, reports it, and decides whether the sequence ends. */
  void advance(FloatBuffer logits, int offset, int vocab) {
    int token = sampler.sample(logits, offset, vocab);
    sampler.accept(token);
    if (length() == tokens.length) {
      tokens = Arrays.copyOf(tokens, tokens.length * 2);
    }
    tokens[length()] = token;
    generated++;
    String delta;
    if (eos.contains(token)) {
      delta = text.flush();
      finishReason = "stop";
    } else {
      delta = text.push(token);
      if (text.stopped()) {
        finishReason = "stop";
      } else if (generated >= params.maxTokens() || length() >= maxContext) {
        delta += text.flush();
        finishReason = "length";
      }
    }
    listener.onToken(id, token, delta);
    if (finishReason != null) {
      listener.onFinish(id, finishReason, prompt.length, generated);
    }
  }

  /** Ends the sequence without more tokens. */
  void finish(String reason) {
    finishReason = reason;
    listener.onFinish(id, reason, prompt.length, generated);
  }

  /** Ends the sequence with an error. */
  void fail(Exception e) {
    finishReason = "error";
    listener.onError(id, e);
  }
}
