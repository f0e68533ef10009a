package io.inferium.engine.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The JVM reports a process killed by signal N as exit status 128 + N. */
class WorkerExitTest {

  @ParameterizedTest
  @CsvSource(delimiterString = "=>", value = {
      "134 => killed by SIGABRT (exit 134)",
      "137 => killed by SIGKILL (exit 137)",
      "139 => killed by SIGSEGV (exit 139)",
      "143 => killed by SIGTERM (exit 143)",
      "132 => killed by SIGILL (exit 132)",
      "135 => killed by SIGBUS (exit 135)",
      "136 => killed by SIGFPE (exit 136)",
      "129 => killed by signal 1 (exit 129)",
      "159 => killed by signal 31 (exit 159)",
  })
  void exitsAbove128AreSignals(int exitCode, String description) {
    assertEquals(description, WorkerExit.describe(exitCode));
  }

  @ParameterizedTest
  @CsvSource(delimiterString = "=>", value = {
      "0   => exited with status 0",
      "1   => exited with status 1",
      "2   => exited with status 2",
      "128 => exited with status 128",
      "160 => exited with status 160",
      "255 => exited with status 255",
      "-1  => exited with status -1",
  })
  void otherExitsArePlainStatuses(int exitCode, String description) {
    assertEquals(description, WorkerExit.describe(exitCode));
  }
}
