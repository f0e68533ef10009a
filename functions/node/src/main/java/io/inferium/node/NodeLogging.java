package io.inferium.node;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;
import org.slf4j.Logger;

/**
 * The node's logging, set up in code: what its {@code logback.xml} said (one stderr appender, INFO), without parsing
 * XML. Reading that file with logback's Joran was about a fifth of a worker's start-up CPU (JFR of a worker start:
 * 0.3 of 1.8 s), paid again by every spawn and every deploy's sandbox.
 *
 * <p>Found through {@code ServiceLoader}, so it is on every class path that holds the node, the gateway's tests among
 * them: it configures only a JVM that {@link NodeMain} started (it sets {@value #NODE_PROPERTY} before anything logs,
 * whether run by class name or with {@code java -jar}), and leaves everything to logback's usual configuration
 * elsewhere or when {@code -Dlogback.configurationFile} names a file.
 */
public final class NodeLogging extends ContextAwareBase implements Configurator {

  /** Set by {@link NodeMain} first thing: this JVM is a node. */
  static final String NODE_PROPERTY = "inferium.node";
  static final String PATTERN = "%d{HH:mm:ss.SSS} %-5level [%thread] %logger{20} - %msg%n";
  /**
   * DJL's GPU probe, which its tokenizers run to pick a native build (they only have a CPU one): on a machine with a
   * CUDA runtime but no usable driver it warned "Failed to detect GPU count" twice in every text worker's log. The
   * node's GPU is ONNX Runtime's, which says itself which device it runs on ({@code OnnxRunner}).
   */
  static final String DJL_GPU_PROBE = "ai.djl.util.cuda.CudaUtils";

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    if (!Boolean.getBoolean(NODE_PROPERTY) || System.getProperty("logback.configurationFile") != null) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern(PATTERN);
    encoder.start();
    ConsoleAppender<ILoggingEvent> out = new ConsoleAppender<>();
    out.setContext(context);
    out.setName("OUT");
    // A worker's stderr is appended to its log file by the gateway that spawned it.
    out.setTarget("System.err");
    out.setEncoder(encoder);
    out.start();
    ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.INFO);
    root.addAppender(out);
    context.getLogger(DJL_GPU_PROBE).setLevel(Level.ERROR);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }
}
