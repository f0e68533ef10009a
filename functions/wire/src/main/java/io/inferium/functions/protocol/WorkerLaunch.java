package io.inferium.functions.protocol;

/**
 * How a gateway starts a local worker from the node artifact: the class it runs, the command, and the
 * environment variable that carries the spawn token. Both sides read these names from here.
 */
public final class WorkerLaunch {

  /** The node artifact's entry point ({@code inferium-node.jar}'s main class). */
  public static final String MAIN_CLASS = "io.inferium.node.NodeMain";
  /** {@link #MAIN_CLASS} as a class-path resource: the gateway finds the node code it spawns by it. */
  public static final String MAIN_RESOURCE = MAIN_CLASS.replace('.', '/') + ".class";
  /** The node's subcommand that connects back to a gateway. */
  public static final String COMMAND = "worker";
  /** Environment variable carrying the spawn token, so it never shows in {@code ps}. */
  public static final String TOKEN_ENV = "INFERIUM_WORKER_TOKEN";

  private WorkerLaunch() {}
}
