package io.inferium.engine.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.util.LogbackMDCAdapter;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@code --log-format json}: the server's own logback.xml then writes one JSON object per line. */
class LogFormatTest {

  @Test
  void theFlagWinsOverTheEnvironmentAndOnlyTextOrJsonPass() {
    assertEquals("text", Main.logFormat(new String[] {"serve"}, null));
    assertEquals("json", Main.logFormat(new String[] {"serve"}, "json"));
    assertEquals("json", Main.logFormat(new String[] {"serve", "--log-format", "json"}, "text"));
    assertEquals("text", Main.logFormat(new String[] {"--log-format=text", "demo"}, "json"));
    assertNull(Main.logFormat(new String[] {"serve", "--log-format", "xml"}, null));
  }

  private static String logOnce(String format) throws Exception {
    return logOnce(format, context -> context.getLogger("io.inferium.test").info("worker {} attached", "w1"));
  }

  private static String logOnce(String format, java.util.function.Consumer<LoggerContext> logs) throws Exception {
    return logOnce(format, logs, java.util.Map.of());
  }

  private static String logOnce(String format, java.util.function.Consumer<LoggerContext> logs,
      java.util.Map<String, String> properties) throws Exception {
    LoggerContext context = new LoggerContext();
    context.setMDCAdapter(new LogbackMDCAdapter());
    context.putProperty(Main.LOG_FORMAT_PROPERTY, format);
    properties.forEach(context::putProperty);
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(context);
    URL config = Main.class.getClassLoader().getResource("logback.xml");
    PrintStream err = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      configurator.doConfigure(config);
      logs.accept(context);
    } finally {
      Main.stopLogging(context);
      System.setErr(err);
    }
    return captured.toString(StandardCharsets.UTF_8).strip();
  }

  @Test
  void jsonLinesCarryLevelLoggerAndMessage() throws Exception {
    String line = logOnce("json");
    JsonObject event = new JsonObject(line);
    assertEquals("INFO", event.getString("level"));
    assertEquals("io.inferium.test", event.getString("loggerName"));
    assertEquals("worker w1 attached", event.getString("formattedMessage"), line);
    String text = logOnce("text");
    assertTrue(text.endsWith("io.inferium.test - worker w1 attached"), text);
  }

  @Test
  void keyValuesAreFieldsOfTheirOwnInJsonAndFollowTheMessageInText() throws Exception {
    java.util.function.Consumer<LoggerContext> internal = context -> context.getLogger("io.inferium.engine.api.Failures")
        .atError().addKeyValue("request_id", "req_0123").addKeyValue("error_id", "e1").log("Internal error {}", "e1");
    JsonObject event = new JsonObject(logOnce("json", internal));
    assertEquals("Internal error e1", event.getString("formattedMessage"));
    assertEquals(new io.vertx.core.json.JsonArray().add(new JsonObject().put("request_id", "req_0123"))
        .add(new JsonObject().put("error_id", "e1")), event.getJsonArray("kvpList"), event.encode());
    String text = logOnce("text", internal);
    assertTrue(text.endsWith("Failures - Internal error e1 request_id=\"req_0123\" error_id=\"e1\""), text);
  }

  @Test
  void accessLinesAreOffByDefaultAndWhenTurnedOnLeaveThroughTheirQueue() throws Exception {
    java.util.function.Consumer<LoggerContext> request = context -> {
      context.getLogger(io.inferium.engine.api.RequestLog.ACCESS_LOGGER).atInfo().addKeyValue("request_id", "req_9")
          .addKeyValue("status", 200).log("GET /v1/models 200 1 ms");
      context.getLogger(io.inferium.engine.api.RequestLog.ACCESS_LOGGER).debug("GET /v2/health/ready 200 0 ms");
    };
    assertEquals("", logOnce("json", request), "off by default (they cost throughput: docs/BENCHMARKS.md)");
    String json = logOnce("json", request, java.util.Map.of("INFERIUM_ACCESS_LOG", "INFO"));
    assertEquals(1, json.lines().count(), "probes are DEBUG, not logged at INFO: " + json);
    JsonObject event = new JsonObject(json);
    assertEquals("inferium.access", event.getString("loggerName"));
    assertEquals("req_9", event.getJsonArray("kvpList").getJsonObject(0).getString("request_id"), json);
  }
}
