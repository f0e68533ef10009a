package io.inferium.scoring.eval;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Locale;

/**
 * Pure metric functions for text generation. The serving path that produces generations and
 * log-likelihoods is built elsewhere; these take its results.
 *
 * <ul>
 *   <li>Exact match: the generation equals the reference after trimming and collapsing whitespace
 *       (and, when asked, ignoring case).
 *   <li>Multiple choice by log-likelihood, as lm-evaluation-harness scores it: {@code acc} is 1 when
 *       the choice with the highest total log-likelihood is the gold one; {@code acc_norm} divides each
 *       choice's log-likelihood by the length of its continuation in characters first. On equal
 *       scores the first choice wins (numpy's argmax).
 *   <li>Prompt following: verifiable instructions in the manner of IFEval, each checked by code.
 * </ul>
 */
public final class TextMetrics {

  private TextMetrics() {}

  /** Whether a generation matches the reference after whitespace normalisation. */
  public static boolean exactMatch(String generated, String reference, boolean ignoreCase) {
    String a = normalize(generated);
    String b = normalize(reference);
    return ignoreCase ? a.equalsIgnoreCase(b) : a.equals(b);
  }

  private static String normalize(String s) {
    return s == null ? "" : s.strip().replaceAll("\\s+", " ");
  }

  /** Fraction of exact matches over paired lists. */
  public static double exactMatchRate(List<String> generated, List<String> references, boolean ignoreCase) {
    if (generated.size() != references.size() || generated.isEmpty()) {
      throw new IllegalArgumentException("need one generation per reference, got " + generated.size() + " and "
          + references.size());
    }
    int hits = 0;
    for (int i = 0; i < generated.size(); i++) {
      if (exactMatch(generated.get(i), references.get(i), ignoreCase)) {
        hits++;
      }
    }
    return (double) hits / generated.size();
  }

  /** One multiple-choice question: the continuations, their log-likelihoods, the gold index. */
  public record Choice(List<String> continuations, double[] logLikelihoods, int gold) {
    public Choice {
      if (continuations.size() != logLikelihoods.length || continuations.isEmpty()) {
        throw new IllegalArgumentException("need one log-likelihood per choice");
      }
      if (gold < 0 || gold >= continuations.size()) {
        throw new IllegalArgumentException("gold index " + gold + " outside 0.." + (continuations.size() - 1));
      }
    }
  }

  /** {@code acc} and {@code acc_norm} averaged over questions. */
  public record MultipleChoice(double acc, double accNorm, int questions) {}

  public static MultipleChoice multipleChoice(List<Choice> questions) {
    if (questions.isEmpty()) {
      throw new IllegalArgumentException("no questions to score");
    }
    int acc = 0;
    int accNorm = 0;
    for (Choice q : questions) {
      int best = 0;
      int bestNorm = 0;
      for (int c = 1; c < q.continuations().size(); c++) {
        if (q.logLikelihoods()[c] > q.logLikelihoods()[best]) {
          best = c;
        }
        if (normalized(q, c) > normalized(q, bestNorm)) {
          bestNorm = c;
        }
      }
      acc += best == q.gold() ? 1 : 0;
      accNorm += bestNorm == q.gold() ? 1 : 0;
    }
    return new MultipleChoice((double) acc / questions.size(), (double) accNorm / questions.size(), questions.size());
  }

  private static double normalized(Choice q, int c) {
    return q.logLikelihoods()[c] / Math.max(1, q.continuations().get(c).length());
  }

  /**
   * Whether {@code response} follows one instruction. Supported {@code type}s: {@code max_words},
   * {@code min_words} ({@code value}), {@code include} / {@code exclude} ({@code words}, case-insensitive),
   * {@code lowercase}, {@code uppercase}, {@code json} (the whole response parses as JSON),
   * {@code starts_with} / {@code ends_with} ({@code value}).
   *
   * @throws IllegalArgumentException for an unknown type
   */
  public static boolean follows(String response, JsonObject instruction) {
    String type = instruction.getString("type", "");
    String r = response == null ? "" : response.strip();
    int words = r.isEmpty() ? 0 : r.split("\\s+").length;
    return switch (type) {
      case "max_words" -> words <= instruction.getInteger("value");
      case "min_words" -> words >= instruction.getInteger("value");
      case "include" -> instruction.getJsonArray("words", new JsonArray()).stream()
          .allMatch(w -> r.toLowerCase(Locale.ROOT).contains(String.valueOf(w).toLowerCase(Locale.ROOT)));
      case "exclude" -> instruction.getJsonArray("words", new JsonArray()).stream()
          .noneMatch(w -> r.toLowerCase(Locale.ROOT).contains(String.valueOf(w).toLowerCase(Locale.ROOT)));
      case "lowercase" -> r.equals(r.toLowerCase(Locale.ROOT));
      case "uppercase" -> r.equals(r.toUpperCase(Locale.ROOT));
      case "json" -> parsesAsJson(r);
      case "starts_with" -> r.startsWith(instruction.getString("value"));
      case "ends_with" -> r.endsWith(instruction.getString("value"));
      default -> throw new IllegalArgumentException("unknown instruction type '" + type + "'");
    };
  }

  private static boolean parsesAsJson(String r) {
    try {
      io.vertx.core.json.Json.decodeValue(r);
      return true;
    } catch (DecodeException e) {
      return false;
    }
  }

  /** Prompt-level (all of a prompt's instructions followed) and instruction-level accuracy. */
  public record PromptFollowing(double promptLevel, double instructionLevel, int prompts) {}

  /** Scores responses against their prompts' instruction lists (one list per response). */
  public static PromptFollowing promptFollowing(List<String> responses, List<List<JsonObject>> instructions) {
    if (responses.size() != instructions.size() || responses.isEmpty()) {
      throw new IllegalArgumentException("need one instruction list per response");
    }
    int prompts = 0;
    int followed = 0;
    int total = 0;
    for (int i = 0; i < responses.size(); i++) {
      boolean all = true;
      for (JsonObject ins : instructions.get(i)) {
        total++;
        if (follows(responses.get(i), ins)) {
          followed++;
        } else {
          all = false;
        }
      }
      prompts += all ? 1 : 0;
    }
    return new PromptFollowing((double) prompts / responses.size(), total == 0 ? 1 : (double) followed / total,
        responses.size());
  }
}
