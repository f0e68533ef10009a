package io.inferium.infra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import org.junit.jupiter.api.Test;

class BoundedTagTest {

  @Test
  void functionsPastTheCapShareOneOtherSeriesAndTheScrapeStaysSmall() {
    Metrics metrics = new Metrics(5);
    for (int i = 0; i < 20_000; i++) {
      Counter.builder("inferium.requests").tag("function", "fn-" + i).tag("status", "200")
          .register(metrics.registry()).increment();
    }
    String scrape = metrics.scrape();
    long series = scrape.lines().filter(l -> l.startsWith("inferium_requests_total{")).count();

    assertEquals(6, series, "5 functions of their own and one 'other'");
    assertTrue(scrape.contains("inferium_requests_total{function=\"fn-0\",status=\"200\"} 1.0"), scrape);
    assertTrue(scrape.contains("inferium_requests_total{function=\"other\",status=\"200\"} 19995.0"), scrape);
    assertFalse(scrape.contains("fn-5\""), "no series for a function past the cap");
  }

  @Test
  void aFunctionKeepsItsSeriesWhateverComesAfterIt() {
    Metrics metrics = new Metrics(2);
    Counter.builder("a").tag("function", "x").register(metrics.registry()).increment();
    Counter.builder("b").tag("function", "y").register(metrics.registry()).increment();
    Counter.builder("a").tag("function", "z").register(metrics.registry()).increment();
    Counter.builder("b").tag("function", "x").register(metrics.registry()).increment();
    String scrape = metrics.scrape();

    assertTrue(scrape.contains("b_total{function=\"x\"} 1.0"), scrape);
    assertTrue(scrape.contains("a_total{function=\"other\"} 1.0"), scrape);
  }

  @Test
  void gaugesPastTheCapAreDroppedNotMixed() {
    Metrics metrics = new Metrics(1);
    Gauge.builder("depth", () -> 3).tag("function", "x").register(metrics.registry());
    Gauge.builder("depth", () -> 7).tag("function", "y").register(metrics.registry());
    String scrape = metrics.scrape();

    assertTrue(scrape.contains("depth{function=\"x\"} 3.0"), scrape);
    assertFalse(scrape.contains("other"), scrape);
  }

  @Test
  void metersWithoutTheTagAreUntouched() {
    Metrics metrics = new Metrics(1);
    Counter.builder("a").tag("function", "x").register(metrics.registry()).increment();
    Counter.builder("workers").tag("reason", "crash").register(metrics.registry()).increment();

    assertTrue(metrics.scrape().contains("workers_total{reason=\"crash\"} 1.0"));
  }
}
