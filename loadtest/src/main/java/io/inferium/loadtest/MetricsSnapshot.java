package io.inferium.loadtest;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One scrape of the gateway's {@code GET /metrics} (Prometheus text format), reduced to the series
 * the benchmark explains its figures with. Two snapshots subtract to what one run did.
 */
public final class MetricsSnapshot {

  private static final Pattern LINE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{([^}]*)\\})?\\s+(\\S+)");
  private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

  private record Sample(String name, Map<String, String> labels, double value) {}

  private final List<Sample> samples;

  private MetricsSnapshot(List<Sample> samples) {
    this.samples = samples;
  }

  public static MetricsSnapshot parse(String text) {
    List<Sample> out = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      Matcher m = LINE.matcher(line);
      if (!m.find()) {
        continue;
      }
      Map<String, String> labels = new HashMap<>();
      if (m.group(3) != null) {
        Matcher l = LABEL.matcher(m.group(3));
        while (l.find()) {
          labels.put(l.group(1), l.group(2));
        }
      }
      try {
        out.add(new Sample(m.group(1), labels, Double.parseDouble(m.group(4))));
      } catch (NumberFormatException e) {
        // NaN/Inf spellings other than Java's: not a series we read
      }
    }
    return new MetricsSnapshot(out);
  }

  /** Whether any series is called {@code name}. */
  public boolean has(String name) {
    return samples.stream().anyMatch(s -> s.name.equals(name));
  }

  /** Sum of {@code name} over the series whose {@code function} label is {@code function}. */
  public double sum(String name, String function) {
    return samples.stream().filter(s -> s.name.equals(name) && function.equals(s.labels.get("function")))
        .mapToDouble(Sample::value).sum();
  }

  /** {@code name} for {@code function}, summed per value of {@code label}. */
  public Map<String, Double> byLabel(String name, String function, String label) {
    Map<String, Double> out = new TreeMap<>();
    for (Sample s : samples) {
      if (s.name.equals(name) && function.equals(s.labels.get("function")) && s.labels.containsKey(label)) {
        out.merge(s.labels.get(label), s.value, Double::sum);
      }
    }
    return out;
  }
}
