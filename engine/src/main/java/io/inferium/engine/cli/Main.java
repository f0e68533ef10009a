package io.inferium.engine.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code inferium}: the entry point for the server and the thin HTTP clients (workers run from inferium-node.jar, {@code io.inferium.node.NodeMain}). */
@Command(name = "inferium", mixinStandardHelpOptions = true, version = "inferium 0.1.0",
    description = "Serverless inference engine: ONNX models as functions behind KServe v2.",
    subcommands = {ServeCommand.class, DemoCommand.class, DeployCommand.class, InvokeCommand.class})
public final class Main {

  public static void main(String[] args) {
    System.exit(new CommandLine(new Main()).execute(args));
  }
}
