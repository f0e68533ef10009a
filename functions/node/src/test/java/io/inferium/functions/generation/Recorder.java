package io.inferium.functions.generation;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Collects what a {@link DecodeLoop} reports, per sequence id. */
final class Recorder implements GenerationListener {

  static final class Result {
    final List<Integer> tokens = new ArrayList<>();
    final StringBuilder text = new StringBuilder();
    String finishReason;
    int promptTokens;
    int completionTokens;
    Exception error;

    int[] tokenArray() {
      return tokens.stream().mapToInt(Integer::intValue).toArray();
    }
  }

  final Map<Long, Result> results = new HashMap<>();

  Result get(long id) {
    return results.computeIfAbsent(id, k -> new Result());
  }

  @Override
  public void onToken(long id, int tokenId, String textDelta) {
    Result r = get(id);
    if (r.finishReason != null) {
      throw new AssertionError("token after finish for " + id);
    }
    r.tokens.add(tokenId);
    r.text.append(textDelta);
  }

  @Override
  public void onFinish(long id, String finishReason, int promptTokens, int completionTokens) {
    Result r = get(id);
    if (r.finishReason != null) {
      throw new AssertionError("second finish for " + id);
    }
    r.finishReason = finishReason;
    r.promptTokens = promptTokens;
    r.completionTokens = completionTokens;
  }

  @Override
  public void onError(long id, Exception e) {
    get(id).error = e;
  }
}
