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
    LoggerContext context = new LoggerContext();
    context.setMDCAdapter(new LogbackMDCAdapter());
    context.putProperty(Main.LOG_FORMAT_PROPERTY, format);
    JoranConfigurator configurator = new JoranConfigurator();
    configurator.setContext(context);
    URL config = Main.class.getClassLoader().getResource("logback.xml");
    PrintStream err = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      configurator.doConfigure(config);
      context.getLogger("io.inferium.test").info("worker {} attached", "w1");
    } finally {
      context.stop();
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
}
