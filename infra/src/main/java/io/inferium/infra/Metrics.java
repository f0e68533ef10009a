package io.inferium.infra;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.VertxBuilder;
import io.vertx.core.VertxOptions;
import io.vertx.core.Vertx;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;

/**
 * The process-wide Prometheus registry: Inferium's own meters, the JVM's and Vert.x's (HTTP server,
 * pools, event bus), scraped at {@code GET /metrics}.
 */
public final class Metrics {

  /** Distinct {@code function} label values with a series of their own; beyond them: {@code other}. */
  public static final int DEFAULT_MAX_FUNCTION_LABELS = 1000;

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

  /** A registry capping function labels at {@code INFERIUM_METRICS_MAX_FUNCTIONS}, default {@value #DEFAULT_MAX_FUNCTION_LABELS}. */
  public Metrics() {
    this(maxFunctionLabels());
  }

  /** A registry whose {@code function} label takes at most {@code maxFunctionLabels} values (the rest: {@code other}). */
  public Metrics(int maxFunctionLabels) {
    registry.config().meterFilter(new BoundedTag("function", maxFunctionLabels));
  }

  private static int maxFunctionLabels() {
    String v = System.getenv("INFERIUM_METRICS_MAX_FUNCTIONS");
    return v == null || v.isBlank() ? DEFAULT_MAX_FUNCTION_LABELS : Integer.parseInt(v.strip());
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** A Vert.x instance whose metrics (and JVM metrics) land in this registry. */
  public Vertx newVertx(VertxOptions options) {
    options.setMetricsOptions(new MicrometerMetricsOptions().setEnabled(true).setJvmMetricsEnabled(true));
    VertxBuilder builder = Vertx.builder().with(options).withMetrics(new MicrometerMetricsFactory(registry));
    return builder.build();
  }

  /** The Prometheus text exposition of every meter. */
  public String scrape() {
    return registry.scrape();
  }
}
