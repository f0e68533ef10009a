package io.inferium.functions.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.tensor.DataType;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Facts read from the committed models made by {@code make_models.py}. */
class OnnxModelReaderTest {

  private static final List<Dim> BATCH_OF_4 = List.of(Dim.symbolic("batch"), Dim.fixed(4));
  private static final List<Dim> BATCH_OF_3 = List.of(Dim.symbolic("batch"), Dim.fixed(3));

  @Test
  void readsTheAddModel() throws Exception {
    OnnxModel model = OnnxModelReader.read(TestModels.model("add.onnx"));

    assertEquals(8, model.irVersion());
    assertEquals(Map.of("", 17L), model.opsetImports());
    assertEquals("inferium-make-models", model.producerName());
    assertEquals("1", model.producerVersion());
    assertEquals(List.of(new ValueInfo("a", 1, BATCH_OF_4), new ValueInfo("b", 1, BATCH_OF_4)), model.inputs());
    assertEquals(List.of(new ValueInfo("sum", 1, BATCH_OF_4), new ValueInfo("product", 1, BATCH_OF_4)), model.outputs());
    assertEquals(Set.of(""), model.operatorDomains());
    assertEquals(Map.of("Add", 1, "Mul", 1), model.operatorCounts());
    assertEquals(List.of(), model.externalDataLocations());
    assertEquals(2, model.nodeCount());
    assertEquals(Optional.of(DataType.FP32), model.inputs().get(0).dataType());
    assertEquals("FP32[batch,4]", model.inputs().get(0).signature());
  }

  @Test
  void readingBytesAndReadingTheFileAgree() throws Exception {
    var file = TestModels.model("add.onnx");
    assertEquals(OnnxModelReader.read(file), OnnxModelReader.read(Files.readAllBytes(file)));
  }

  @Test
  void readsEveryElementType() throws Exception {
    OnnxModel model = OnnxModelReader.read(TestModels.model("all_types.onnx"));

    Map<String, DataType> expected = new LinkedHashMap<>();
    expected.put("bool", DataType.BOOL);
    expected.put("uint8", DataType.UINT8);
    expected.put("uint16", DataType.UINT16);
    expected.put("uint32", DataType.UINT32);
    expected.put("uint64", DataType.UINT64);
    expected.put("int8", DataType.INT8);
    expected.put("int16", DataType.INT16);
    expected.put("int32", DataType.INT32);
    expected.put("int64", DataType.INT64);
    expected.put("float16", DataType.FP16);
    expected.put("float", DataType.FP32);
    expected.put("double", DataType.FP64);
    expected.put("string", DataType.BYTES);
    assertEquals(expected.size(), model.inputs().size());
    int i = 0;
    for (Map.Entry<String, DataType> type : expected.entrySet()) {
      ValueInfo input = model.inputs().get(i);
      ValueInfo output = model.outputs().get(i);
      assertEquals(new ValueInfo("in_" + type.getKey(), type.getValue().onnxType(), BATCH_OF_3), input);
      assertEquals(new ValueInfo("out_" + type.getKey(), type.getValue().onnxType(), BATCH_OF_3), output);
      assertEquals(Optional.of(type.getValue()), input.dataType());
      i++;
    }
    assertEquals(Map.of("Identity", 13), model.operatorCounts());
  }

  @Test
  void readsFixedShapesAndLeavesInitializersOutOfTheInputs() throws Exception {
    OnnxModel model = OnnxModelReader.read(TestModels.model("fixed_shape.onnx"));

    assertEquals(List.of(new ValueInfo("x", 1, List.of(Dim.fixed(2), Dim.fixed(3)))), model.inputs());
    assertEquals(List.of(new ValueInfo("y", 1, List.of(Dim.fixed(2), Dim.fixed(2)))), model.outputs());
  }

  @Test
  void countsTheOperatorsInsideLoopBodies() throws Exception {
    OnnxModel model = OnnxModelReader.read(TestModels.model("loop_by_input.onnx"));

    assertEquals(List.of(
        new ValueInfo("iterations", DataType.INT64.onnxType(), List.of(Dim.fixed(1))),
        new ValueInfo("x", DataType.FP32.onnxType(), List.of(Dim.fixed(1)))), model.inputs());
    assertEquals(Map.of("Reshape", 1, "Loop", 1, "Identity", 1, "Add", 1), model.operatorCounts());
    assertEquals(4, model.nodeCount());
  }

  @Test
  void aConstantTripCountIsNotAnInput() throws Exception {
    OnnxModel model = OnnxModelReader.read(TestModels.model("hang_always.onnx"));

    assertEquals(List.of("x"), model.inputs().stream().map(ValueInfo::name).toList());
    assertEquals(3, model.nodeCount());
  }

  @Test
  void readsTheIrisDemo() throws Exception {
    OnnxModel model = OnnxModelReader.read(TestModels.demo("iris.onnx"));

    assertEquals(List.of(new ValueInfo("features", 1, BATCH_OF_4)), model.inputs());
    assertEquals(List.of(
        new ValueInfo("probabilities", 1, BATCH_OF_3),
        new ValueInfo("label", DataType.INT64.onnxType(), List.of(Dim.symbolic("batch")))), model.outputs());
  }

  @Test
  void namesCustomOperatorDomains() throws Exception {
    OnnxModel model = OnnxModelReader.read(TestModels.model("custom_domain.onnx"));

    assertEquals(Set.of("com.evil.ops"), model.operatorDomains());
    assertEquals(Map.of("com.evil.ops:Backdoor", 1), model.operatorCounts());
    assertEquals(Map.of("", 17L, "com.evil.ops", 1L), model.opsetImports());
  }

  @Test
  void seesThroughCallsToModelLocalFunctions() throws Exception {
    OnnxModel model = OnnxModelReader.read(TestModels.model("local_function.onnx"));

    assertEquals(Set.of(""), model.operatorDomains());
    assertEquals(Map.of("Add", 1, "Mul", 1), model.operatorCounts());
    assertEquals(3, model.nodeCount());
  }

  @Test
  void findsExternalDataLocations() throws Exception {
    OnnxModel model = OnnxModelReader.read(TestModels.model("external_data.onnx"));

    assertEquals(List.of("../../../../etc/passwd"), model.externalDataLocations());
    assertEquals(List.of("x"), model.inputs().stream().map(ValueInfo::name).toList());
  }

  @Test
  void readsOpsetsItDoesNotKnow() throws Exception {
    assertEquals(Map.of("", 99L), OnnxModelReader.read(TestModels.model("future_opset.onnx")).opsetImports());
  }

  @Test
  void anUntypedInputHasNoTypeAndNoShape() throws Exception {
    ValueInfo x = OnnxModelReader.read(TestModels.model("untyped_io.onnx")).inputs().get(0);

    assertEquals("x", x.name());
    assertEquals(0, x.elemType());
    assertNull(x.shape());
    assertFalse(x.typed());
    assertTrue(x.dataType().isEmpty());
  }

  @Test
  void randomBytesAreNotAModel() {
    var e = assertThrows(InvalidModelException.class, () -> OnnxModelReader.read(TestModels.model("garbage.onnx")));
    assertTrue(e.getMessage().startsWith("not an ONNX model: "), e.getMessage());
  }

  @Test
  void aTruncatedFileSaysWhereItEnds() {
    var e = assertThrows(InvalidModelException.class, () -> OnnxModelReader.read(TestModels.model("truncated.onnx")));
    assertTrue(e.getMessage().matches("not an ONNX model: truncated message at byte \\d+"), e.getMessage());
  }

  @Test
  void aMissingFileIsReportedAsUnreadable() {
    var e = assertThrows(InvalidModelException.class,
        () -> OnnxModelReader.read(TestModels.model("add.onnx").resolveSibling("no-such.onnx")));
    assertTrue(e.getMessage().startsWith("cannot read model file no-such.onnx"), e.getMessage());
  }
}
