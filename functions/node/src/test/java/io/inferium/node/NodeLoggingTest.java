package io.inferium.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator.ExecutionStatus;
import ch.qos.logback.core.ConsoleAppender;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;

class NodeLoggingTest {

  private static ExecutionStatus configure(LoggerContext context, boolean node, String configurationFile) {
    String oldFile = System.getProperty("logback.configurationFile");
    try {
      if (node) {
        System.setProperty(NodeLogging.NODE_PROPERTY, "true");
      } else {
        System.clearProperty(NodeLogging.NODE_PROPERTY);
      }
      if (configurationFile == null) {
        System.clearProperty("logback.configurationFile");
      } else {
        System.setProperty("logback.configurationFile", configurationFile);
      }
      NodeLogging logging = new NodeLogging();
      logging.setContext(context);
      return logging.configure(context);
    } finally {
      System.clearProperty(NodeLogging.NODE_PROPERTY);
      if (oldFile == null) {
        System.clearProperty("logback.configurationFile");
      } else {
        System.setProperty("logback.configurationFile", oldFile);
      }
    }
  }

  @Test
  void aNodeGetsItsStderrAppenderAtInfoWithoutAnyFile() {
    LoggerContext context = new LoggerContext();
    assertEquals(ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY,
        configure(context, true, null));
    ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    assertEquals(Level.INFO, root.getLevel());
    ConsoleAppender<?> out = assertInstanceOf(ConsoleAppender.class, root.getAppender("OUT"));
    assertTrue(out.isStarted());
    assertEquals("System.err", out.getTarget());
    assertEquals(NodeLogging.PATTERN, ((PatternLayoutEncoder) out.getEncoder()).getPattern());
    assertEquals(Level.ERROR, context.getLogger(NodeLogging.DJL_GPU_PROBE).getLevel(), "DJL's GPU probe is not the node's GPU");
  }

  @Test
  void anyOtherJvmAndAnExplicitFileAreLeftToLogback() {
    LoggerContext gateway = new LoggerContext();
    assertEquals(ExecutionStatus.INVOKE_NEXT_IF_ANY, configure(gateway, false, null));
    assertNull(gateway.getLogger(Logger.ROOT_LOGGER_NAME).getAppender("OUT"));
    assertFalse(gateway.getLogger(Logger.ROOT_LOGGER_NAME).iteratorForAppenders().hasNext());

    LoggerContext operator = new LoggerContext();
    assertEquals(ExecutionStatus.INVOKE_NEXT_IF_ANY, configure(operator, true, "/etc/node.xml"));
    assertFalse(operator.getLogger(Logger.ROOT_LOGGER_NAME).iteratorForAppenders().hasNext());
  }
}
