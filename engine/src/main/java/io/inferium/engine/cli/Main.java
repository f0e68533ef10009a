package io.inferium.engine.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/** {@code inferium}: the entry point for the server and the thin HTTP clients (workers run from inferium-node.jar, {@code io.inferium.node.NodeMain}). */
@Command(name = "inferium", mixinStandardHelpOptions = true, versionProvider = Main.BuildVersion.class,
    description = "Serverless inference engine: ONNX models as functions behind KServe v2.",
    subcommands = {ServeCommand.class, DemoCommand.class, DeployCommand.class, InvokeCommand.class,
        ChainCommand.class, VerifyReceiptCommand.class, ClaimCommand.class})
public final class Main {

  /** {@code inferium --version}: the version the build was made from. */
  static final class BuildVersion implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"inferium " + io.inferium.engine.Gateway.VERSION};
    }
  }

  /** Read by {@code logback.xml} to pick its appender; set before anything logs. */
  static final String LOG_FORMAT_PROPERTY = "inferium.log.format";

  @Option(names = "--log-format", scope = ScopeType.INHERIT, defaultValue = "${env:INFERIUM_LOG_FORMAT:-text}",
      description = "Logs on stderr as text or json (one JSON object per line; env INFERIUM_LOG_FORMAT; default ${DEFAULT-VALUE}).")
  String logFormat;

  public static void main(String[] args) {
    String format = logFormat(args, System.getenv("INFERIUM_LOG_FORMAT"));
    if (format == null) {
      System.err.println("inferium: --log-format: expected text or json");
      System.exit(2);
    }
    // Before the first logger: logback reads the property when it configures itself.
    System.setProperty(LOG_FORMAT_PROPERTY, format);
    Thread.setDefaultUncaughtExceptionHandler(Main::uncaught);
    System.exit(commandLine().execute(args));
  }

  /**
   * An exception no code caught goes through the log (so {@code --log-format json} stays one JSON object per line),
   * not the JVM's raw stack trace on stderr. A task completing after Vert.x stopped its event loops at exit
   * (a blocking step finishing late) is expected there and only noted.
   */
  static void uncaught(Thread thread, Throwable e) {
    org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Main.class);
    if (e instanceof java.util.concurrent.RejectedExecutionException && String.valueOf(e.getMessage()).contains("terminated")) {
      log.debug("After the event loops stopped, thread {}: {}", thread.getName(), e.toString());
      return;
    }
    log.atError().addKeyValue("thread", thread.getName()).setCause(e).log("Uncaught exception in thread {}", thread.getName());
  }

  /**
   * Stops logging at exit with nothing lost: the queued appenders (the access lines' queue) are flushed before
   * the console appender they feed is stopped, which {@link ch.qos.logback.classic.LoggerContext#stop()} alone
   * does the other way round (root's appenders first). Quietly nothing where logback is not the SLF4J binding.
   */
  static void stopLogging(org.slf4j.ILoggerFactory factory) {
    if (!(factory instanceof ch.qos.logback.classic.LoggerContext context)) {
      return;
    }
    for (ch.qos.logback.classic.Logger logger : context.getLoggerList()) {
      logger.iteratorForAppenders().forEachRemaining(a -> {
        if (a instanceof ch.qos.logback.core.AsyncAppenderBase<?>) {
          a.stop();
        }
      });
    }
    context.stop();
  }

  /** The command line, where a bad flag value ({@link IllegalArgumentException}) is one line on stderr and exit 2. */
  static CommandLine commandLine() {
    return new CommandLine(new Main()).setExecutionExceptionHandler((e, cmd, parsed) -> {
      if (e instanceof IllegalArgumentException) {
        cmd.getErr().println("inferium " + cmd.getCommandName() + ": " + e.getMessage());
        return 2;
      }
      throw e;
    });
  }

  /** The log format the arguments (or else the environment) ask for; null when it is neither text nor json. */
  static String logFormat(String[] args, String env) {
    String value = env == null || env.isBlank() ? "text" : env.strip();
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--log-format") && i + 1 < args.length) {
        value = args[i + 1];
      } else if (args[i].startsWith("--log-format=")) {
        value = args[i].substring("--log-format=".length());
      }
    }
    return value.equals("text") || value.equals("json") ? value : null;
  }
}
