package io.inferium.engine.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** Every command answers {@code --help} with its usage and exit 0, whatever options it declares. */
class CliHelpTest {

  @ParameterizedTest
  @ValueSource(strings = {"serve", "demo", "deploy", "invoke", "chain", "verify-receipt", "claim"})
  void helpPrintsUsageAndExitsZero(String command) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new Main()).setOut(new PrintWriter(out)).setErr(new PrintWriter(err));
    int code = cli.execute(command, "--help");
    assertEquals(0, code, "exit code of `inferium " + command + " --help`; stderr: " + err);
    assertTrue(out.toString().contains("Usage: inferium " + command), out.toString());
  }

  @ParameterizedTest
  @ValueSource(strings = {"deploy --version 3 --name f model.onnx", "invoke f --version 3 --json {}"})
  void theFunctionsVersionOptionIsStillParsed(String line) {
    CommandLine.ParseResult sub = new CommandLine(new Main()).parseArgs(line.split(" ")).subcommand();
    assertEquals(Integer.valueOf(3), sub.matchedOptionValue("--version", (Integer) null), line);
  }

  @Test
  void versionIsTheBuildsVersion() {
    StringWriter out = new StringWriter();
    int code = new CommandLine(new Main()).setOut(new PrintWriter(out)).execute("--version");
    assertEquals(0, code);
    assertTrue(out.toString().strip().matches("inferium \\d+\\.\\d+\\.\\d+(-SNAPSHOT)?"), out.toString());
  }

  @Test
  void aBadFlagValueIsOneLineAndExitTwo() {
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine().setErr(new PrintWriter(err));
    assertEquals(2, cli.execute("serve", "--chain-rpc", "http://127.0.0.1:1"));
    assertEquals("inferium serve: --chain-rpc needs --chain-key-file and --chain-deployment", err.toString().strip());
  }
}
