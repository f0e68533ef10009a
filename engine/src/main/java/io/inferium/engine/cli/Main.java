package io.inferium.engine.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code inferium}: the entry point for the server and the thin HTTP clients (workers run from inferium-node.jar, {@code io.inferium.node.NodeMain}). */
@Command(name = "inferium", mixinStandardHelpOptions = true, versionProvider = Main.BuildVersion.class,
    description = "Serverless inference engine: ONNX models as functions behind KServe v2.",
    subcommands = {ServeCommand.class, DemoCommand.class, DeployCommand.class, InvokeCommand.class})
public final class Main {

  /** {@code inferium --version}: the version the build was made from. */
  static final class BuildVersion implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"inferium " + io.inferium.engine.Gateway.VERSION};
    }
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new Main()).execute(args));
  }
}
