package io.inferium.loadtest;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Writes load results as JSON, a Markdown table and a PNG chart into an output directory. */
public final class ReportFiles {

  private ReportFiles() {}

  /** Writes {@code <name>.json}, {@code <name>.md} and, when there is a closed-loop sweep, {@code <name>.png}. */
  public static void write(Path dir, String name, String title, JsonObject meta, List<LoadResult> results)
      throws IOException {
    Files.createDirectories(dir);
    JsonArray runs = new JsonArray();
    results.forEach(r -> runs.add(r.toJson()));
    Files.writeString(dir.resolve(name + ".json"), meta.copy().put("runs", runs).encodePrettily(), StandardCharsets.UTF_8);
    Files.writeString(dir.resolve(name + ".md"), "# " + title + "\n\n" + markdown(results), StandardCharsets.UTF_8);
    List<LoadResult> closed = results.stream().filter(r -> "closed".equals(r.mode())).toList();
    if (!closed.isEmpty()) {
      SweepChart.write(dir.resolve(name + ".png"), title, List.of(new SweepChart.Series(closed.get(0).label(), closed)), 0);
    }
  }

  /** One row per run: what ran, throughput, errors by kind, latency percentiles. */
  public static String markdown(List<LoadResult> results) {
    StringBuilder sb = new StringBuilder();
    sb.append("| run | mode | concurrency | rate (req/s) | throughput (ok/s) | errors | p50 | p90 | p99 | p99.9 |\n");
    sb.append("|---|---|---|---|---|---|---|---|---|---|\n");
    for (LoadResult r : results) {
      sb.append("| ").append(r.label()).append(" | ").append(r.mode()).append(" | ").append(r.concurrency())
          .append(" | ").append("open".equals(r.mode()) ? fmt(r.rate()) : "–")
          .append(" | ").append(fmt(r.throughput()))
          .append(" | ").append(errors(r.errors()))
          .append(" | ").append(ms(r.latencyMs(50))).append(" | ").append(ms(r.latencyMs(90)))
          .append(" | ").append(ms(r.latencyMs(99))).append(" | ").append(ms(r.latencyMs(99.9))).append(" |\n");
    }
    return sb.toString();
  }

  static String errors(Map<String, Long> errors) {
    if (errors.isEmpty()) {
      return "0";
    }
    StringBuilder sb = new StringBuilder();
    errors.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : ", ").append(v).append(" × ").append(k.replace("|", "/")));
    return sb.toString();
  }

  /** Milliseconds with about three significant digits; a dash when there is nothing. */
  static String ms(double v) {
    if (Double.isNaN(v)) {
      return "–";
    }
    if (v >= 100) {
      return String.format(Locale.ROOT, "%.0f ms", v);
    }
    if (v >= 10) {
      return String.format(Locale.ROOT, "%.1f ms", v);
    }
    return String.format(Locale.ROOT, "%.2f ms", v);
  }

  /** A count or rate, whole numbers. */
  static String fmt(double v) {
    return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.0f", v);
  }
}
