package io.inferium.functions.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.VerificationCheck;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class StaticChecksTest {

  private final StaticChecks checks = new StaticChecks(StaticCheckConfig.defaults());

  private static List<String> names(List<VerificationCheck> report) {
    return report.stream().map(VerificationCheck::name).toList();
  }

  private static List<String> failed(List<VerificationCheck> report) {
    return report.stream().filter(VerificationCheck::rejects).map(VerificationCheck::name).toList();
  }

  private static VerificationCheck named(List<VerificationCheck> report, String name) {
    return report.stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow();
  }

  private static void assertNotRunAfter(List<VerificationCheck> report, String failedCheck) {
    int failedAt = StaticChecks.CHECK_NAMES.indexOf(failedCheck);
    for (VerificationCheck check : report.subList(failedAt + 1, report.size())) {
      assertFalse(check.passed(), check.name());
      assertEquals(VerificationCheck.WARNING, check.severity(), check.name());
      assertTrue(check.message().startsWith("not run: "), check.message());
      assertTrue(check.message().contains(failedCheck), check.message());
    }
  }

  @Test
  void theIrisDemoPassesEveryCheck() {
    List<VerificationCheck> report = checks.run(TestModels.demo("iris.onnx"));

    assertEquals(StaticChecks.CHECK_NAMES, names(report));
    assertTrue(report.stream().allMatch(VerificationCheck::passed), report::toString);
    assertEquals("inputs: features FP32[batch,4]; outputs: probabilities FP32[batch,3], label INT64[batch]",
        named(report, StaticChecks.TYPED_IO).message());
    assertNotNull(checks.model());
  }

  @ParameterizedTest
  @ValueSource(strings = {"add.onnx", "all_types.onnx", "arith_types.onnx", "fixed_shape.onnx", "loop_by_input.onnx",
      "hang_always.onnx", "nan_output.onnx", "local_function.onnx"})
  void validModelsPassEveryCheck(String model) {
    List<VerificationCheck> report = checks.run(TestModels.model(model));

    assertEquals(StaticChecks.CHECK_NAMES, names(report));
    assertTrue(report.stream().allMatch(VerificationCheck::passed), report::toString);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "custom_domain.onnx | operator_domains | operators from domains that are not allowed: com.evil.ops (Backdoor); allowed domains: ai.onnx, ai.onnx.ml",
      "external_data.onnx | no_external_data | the model refers to: '../../../../etc/passwd'",
      "future_opset.onnx  | opset_supported  | ai.onnx opset 99 (highest supported: 26)",
      "untyped_io.onnx    | typed_io         | input 'x' has no tensor type",
  })
  void eachBadModelFailsExactlyItsCheck(String model, String check, String messagePart) {
    List<VerificationCheck> report = checks.run(TestModels.model(model));

    assertEquals(StaticChecks.CHECK_NAMES, names(report));
    assertEquals(List.of(check), failed(report), report::toString);
    String message = named(report, check).message();
    assertTrue(message.contains(messagePart), message);
    report.stream().filter(c -> !c.name().equals(check)).forEach(c -> assertTrue(c.passed(), c.toString()));
  }

  @ParameterizedTest
  @ValueSource(strings = {"garbage.onnx", "truncated.onnx"})
  void unreadableFilesFailOnnxProtobufAndSkipTheRest(String model) {
    List<VerificationCheck> report = checks.run(TestModels.model(model));

    assertEquals(StaticChecks.CHECK_NAMES, names(report));
    assertTrue(report.get(0).passed());
    assertEquals(List.of(StaticChecks.ONNX_PROTOBUF), failed(report));
    assertTrue(report.get(1).message().startsWith("not an ONNX model: "), report.get(1).message());
    assertNotRunAfter(report, StaticChecks.ONNX_PROTOBUF);
    assertNull(checks.model());
  }

  @Test
  void aFileOverTheLimitIsNotParsed() {
    StaticChecks small = new StaticChecks(new StaticCheckConfig(100, Map.of(), Set.of("")));

    List<VerificationCheck> report = small.run(TestModels.model("add.onnx"));

    assertEquals(StaticChecks.CHECK_NAMES, names(report));
    assertEquals(List.of(StaticChecks.SIZE_LIMIT), failed(report));
    assertEquals("model file is 203 bytes, over the 100 bytes limit", report.get(0).message());
    assertNotRunAfter(report, StaticChecks.SIZE_LIMIT);
    assertNull(small.model());
  }

  @Test
  void aMissingFileFailsTheSizeCheck() {
    List<VerificationCheck> report = checks.run(TestModels.model("add.onnx").resolveSibling("missing.onnx"));

    assertEquals(List.of(StaticChecks.SIZE_LIMIT), failed(report));
    assertTrue(report.get(0).message().startsWith("cannot read the model file"), report.get(0).message());
  }

  @Test
  void aModelWithoutAnIrVersionFailsOnnxProtobuf(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("no_ir.onnx");
    Files.write(file, ProtoWriter.message()
        .message(8, ProtoWriter.message().string(1, "").varint(2, 17))
        .message(7, ProtoWriter.message().string(2, "g")).toBytes());

    List<VerificationCheck> report = checks.run(file);

    assertEquals(List.of(StaticChecks.ONNX_PROTOBUF), failed(report));
    assertTrue(report.get(1).message().startsWith("the model has no IR version"), report.get(1).message());
    assertNotRunAfter(report, StaticChecks.ONNX_PROTOBUF);
  }

  @Test
  void typedIoNamesEveryOffender(@TempDir Path dir) throws Exception {
    ProtoWriter complex = ProtoWriter.message().string(1, "c").message(2, ProtoWriter.message()
        .message(1, ProtoWriter.message().varint(1, 14).message(2, ProtoWriter.message())));
    ProtoWriter shapeless = ProtoWriter.message().string(1, "s").message(2, ProtoWriter.message()
        .message(1, ProtoWriter.message().varint(1, 1)));
    Path file = dir.resolve("offenders.onnx");
    Files.write(file, ProtoWriter.message().varint(1, 8)
        .message(8, ProtoWriter.message().string(1, "").varint(2, 17))
        .message(7, ProtoWriter.message().message(11, complex).message(11, shapeless)).toBytes());

    VerificationCheck typedIo = named(checks.run(file), StaticChecks.TYPED_IO);

    assertFalse(typedIo.passed());
    assertTrue(typedIo.message().endsWith("input 'c' has element type COMPLEX64, which Inferium cannot carry;"
        + " input 's' (FP32) has no shape; the graph declares no outputs"), typedIo.message());
  }

  @Test
  void aDomainCanBeAllowedByConfiguration() {
    StaticChecks lenient = new StaticChecks(new StaticCheckConfig(
        StaticCheckConfig.DEFAULT_MAX_MODEL_BYTES, Map.of("ai.onnx", 17L), Set.of("ai.onnx", "com.evil.ops")));

    List<VerificationCheck> report = lenient.run(TestModels.model("custom_domain.onnx"));

    assertTrue(report.stream().allMatch(VerificationCheck::passed), report::toString);
  }

  @Test
  void theDefaultsMatchOnnxRuntime129() {
    StaticCheckConfig defaults = StaticCheckConfig.defaults();

    assertEquals(512L * 1024 * 1024, defaults.maxModelBytes());
    assertEquals(Map.of("", 26L, "ai.onnx.ml", 5L), defaults.maxOpsetByDomain());
    assertEquals(Set.of("", "ai.onnx.ml"), defaults.allowedDomains());
  }
}
