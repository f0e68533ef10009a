package io.inferium.engine.deploy;

import io.inferium.functions.VerificationCheck;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Where one version's deploy-time verification is while it runs: its step and the checks done so far,
 * readable from any thread ({@code GET /api/functions/{name}/versions/{v}/verification} polls it). Lives
 * from the version's enqueueing to its report being stored; the pipeline holds at most its queue limit
 * plus the running ones.
 */
public final class VerificationProgress {

  /** The steps in order; a version passes each or stops at the one whose check rejected it. */
  public static final List<String> STEPS = List.of("queued", "static_checks", "sandbox_start", "sandbox_load",
      "smoke_run", "recording");

  private final long startedNanos = System.nanoTime();
  private volatile String step = STEPS.get(0);
  /** The verification's own list of checks: added to as they finish, read as a snapshot. */
  final List<VerificationCheck> checks = new CopyOnWriteArrayList<>();

  void step(String next) {
    step = next;
  }

  /** The step it is at now. */
  String step() {
    return step;
  }

  /** The steps so far (done, running, pending) and the checks finished, as the API answers them. */
  public JsonObject toJson() {
    String now = step;
    int at = STEPS.indexOf(now);
    JsonArray steps = new JsonArray();
    for (int i = 0; i < STEPS.size(); i++) {
      steps.add(new JsonObject().put("name", STEPS.get(i)).put("state", i < at ? "done" : i == at ? "running" : "pending"));
    }
    return new JsonObject().put("state", "verifying").put("step", now).put("steps", steps)
        .put("checks", new JsonArray(checks.stream().map(VerificationCheck::toJson).toList()))
        .put("elapsed_ms", (System.nanoTime() - startedNanos) / 1_000_000);
  }

  /**
   * A finished version's steps: all done when it is ready. A rejected one's are done up to the step that rejected it
   * ({@code stoppedAt}, from its report), that one {@code failed}, the later ones {@code skipped} but for
   * {@code recording} (the rejection was recorded); without {@code stoppedAt} (versions recorded before it was kept)
   * each step is {@code finished}.
   */
  public static JsonArray finished(boolean ready, String stoppedAt) {
    int stop = ready || stoppedAt == null ? -1 : STEPS.indexOf(stoppedAt);
    JsonArray steps = new JsonArray();
    for (int i = 0; i < STEPS.size(); i++) {
      String state;
      if (ready) {
        state = "done";
      } else if (stop < 0) {
        state = "finished";
      } else {
        state = i < stop ? "done" : i == stop ? "failed" : STEPS.get(i).equals("recording") ? "done" : "skipped";
      }
      steps.add(new JsonObject().put("name", STEPS.get(i)).put("state", state));
    }
    return steps;
  }
}
