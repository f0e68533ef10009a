package io.inferium.node;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code java -Xss8m -jar inferium-node.jar worker ...}: the node artifact's entry point. A gateway spawns its
 * local workers with this class; the jar holds no gateway, database or Kafka code.
 */
@Command(name = "inferium-node", mixinStandardHelpOptions = true, version = "inferium-node 0.1.0",
    description = "An Inferium node: runs ONNX models for a gateway that spawned it or that it connects to.",
    subcommands = {WorkerCommand.class, NodeCommand.class})
public final class NodeMain {

  private NodeMain() {}

  public static void main(String[] args) {
    // Before anything logs: logback's first use finds NodeLogging, which configures only a node.
    System.setProperty(NodeLogging.NODE_PROPERTY, "true");
    System.exit(new CommandLine(new NodeMain()).execute(args));
  }
}
