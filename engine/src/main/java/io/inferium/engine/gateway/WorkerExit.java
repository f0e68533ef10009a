package io.inferium.engine.gateway;

/** Describes how a worker process ended, in the words an operator reads in an error or a log. */
final class WorkerExit {

  private WorkerExit() {}

  static String describe(int exitCode) {
    if (exitCode > 128 && exitCode < 160) {
      int signal = exitCode - 128;
      return "killed by " + signalName(signal) + " (exit " + exitCode + ")";
    }
    return "exited with status " + exitCode;
  }

  static String signalName(int signal) {
    return switch (signal) {
      case 4 -> "SIGILL";
      case 6 -> "SIGABRT";
      case 7 -> "SIGBUS";
      case 8 -> "SIGFPE";
      case 9 -> "SIGKILL";
      case 11 -> "SIGSEGV";
      case 15 -> "SIGTERM";
      default -> "signal " + signal;
    };
  }
}
