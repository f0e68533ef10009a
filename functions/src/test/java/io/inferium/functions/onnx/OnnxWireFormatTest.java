package io.inferium.functions.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reader against hand-written protobuf: the odd files no exporter writes, but an attacker might. */
class OnnxWireFormatTest {

  private static final int FLOAT = 1;

  // Field numbers from onnx.proto, named as there.
  private static ProtoWriter model(ProtoWriter graph) {
    return ProtoWriter.message()
        .varint(1, 8)
        .message(8, ProtoWriter.message().string(1, "").varint(2, 17))
        .message(7, graph);
  }

  private static ProtoWriter node(String opType, String domain, ProtoWriter... attributes) {
    ProtoWriter node = ProtoWriter.message().string(1, "in").string(2, "out").string(4, opType).string(7, domain);
    for (ProtoWriter attribute : attributes) {
      node.message(5, attribute);
    }
    return node;
  }

  private static ProtoWriter graphAttribute(String name, ProtoWriter graph) {
    return ProtoWriter.message().string(1, name).varint(20, 5).message(6, graph);
  }

  private static ProtoWriter tensorValue(String name, long elemType, Object... dims) {
    ProtoWriter shape = ProtoWriter.message();
    for (Object dim : dims) {
      shape.message(1, dim instanceof String param
          ? ProtoWriter.message().string(2, param)
          : ProtoWriter.message().varint(1, ((Number) dim).longValue()));
    }
    ProtoWriter tensorType = ProtoWriter.message().varint(1, elemType).message(2, shape);
    return ProtoWriter.message().string(1, name).message(2, ProtoWriter.message().message(1, tensorType));
  }

  private static ProtoWriter externalTensor(String name, String location) {
    return ProtoWriter.message().varint(1, 4).varint(2, FLOAT).string(8, name).varint(14, 1)
        .message(13, ProtoWriter.message().string(1, "location").string(2, location));
  }

  private static OnnxModel read(ProtoWriter model) throws InvalidModelException {
    return OnnxModelReader.read(model.toBytes());
  }

  @Test
  void skipsFieldsItDoesNotKnowAtEveryLevel() throws Exception {
    ProtoWriter graph = ProtoWriter.message()
        .message(1, node("Relu", "").varint(900, 1).string(901, "future"))
        .message(11, tensorValue("in", FLOAT, "batch", 4).bytes(77, new byte[] {1, 2, 3}))
        .message(12, tensorValue("out", FLOAT, "batch", 4))
        .varint(4000, 42);
    OnnxModel model = read(model(graph).string(26, "a ModelProto field from a later ONNX").varint(555, 7));

    assertEquals(Map.of("Relu", 1), model.operatorCounts());
    assertEquals(List.of(new ValueInfo("in", FLOAT, List.of(Dim.symbolic("batch"), Dim.fixed(4)))), model.inputs());
  }

  @Test
  void findsCustomOperatorsNestedInSubgraphs() throws Exception {
    ProtoWriter loopBody = ProtoWriter.message().message(1, node("Backdoor", "com.evil.ops"));
    ProtoWriter elseBranch = ProtoWriter.message().message(1, node("Loop", "", graphAttribute("body", loopBody)));
    ProtoWriter thenBranch = ProtoWriter.message().message(1, node("Identity", "ai.onnx"));
    ProtoWriter graph = ProtoWriter.message().message(1, node("If", "",
        graphAttribute("then_branch", thenBranch), graphAttribute("else_branch", elseBranch)));

    OnnxModel model = read(model(graph));

    assertEquals(Set.of("", "com.evil.ops"), model.operatorDomains());
    assertEquals(Map.of("If", 1, "Identity", 1, "Loop", 1, "com.evil.ops:Backdoor", 1), model.operatorCounts());
    assertEquals(4, model.nodeCount());
  }

  @Test
  void findsExternalDataInSubgraphsAttributesAndSparseInitializers() throws Exception {
    ProtoWriter constant = node("Constant", "", ProtoWriter.message().string(1, "value").varint(20, 4)
        .message(5, externalTensor("c", "weights/const.bin")));
    ProtoWriter body = ProtoWriter.message().message(1, constant);
    ProtoWriter sparse = ProtoWriter.message()
        .message(1, externalTensor("s", "../sparse.bin"))
        .message(2, ProtoWriter.message().varint(1, 1).varint(2, 7).string(8, "s_indices"));
    ProtoWriter graph = ProtoWriter.message()
        .message(1, node("Loop", "", graphAttribute("body", body)))
        .message(15, sparse)
        .message(5, ProtoWriter.message().string(8, "w").varint(14, 1))
        .message(11, tensorValue("s", FLOAT, 4))
        .message(11, tensorValue("x", FLOAT, 4));

    OnnxModel model = read(model(graph));

    assertEquals(List.of("weights/const.bin", "../sparse.bin", "(tensor 'w' names no location)"),
        model.externalDataLocations());
    assertEquals(List.of("x"), model.inputs().stream().map(ValueInfo::name).toList());
  }

  @Test
  void anInputWithAnInitializerOfTheSameNameIsNotRequired() throws Exception {
    ProtoWriter graph = ProtoWriter.message()
        .message(11, tensorValue("x", FLOAT, 4))
        .message(11, tensorValue("scale", FLOAT, 4))
        .message(5, ProtoWriter.message().varint(1, 4).varint(2, FLOAT).string(8, "scale").bytes(9, new byte[16]));

    assertEquals(List.of("x"), read(model(graph)).inputs().stream().map(ValueInfo::name).toList());
  }

  @Test
  void mergesAGraphWrittenTwiceAsProtobufDoes() throws Exception {
    ProtoWriter bytes = model(ProtoWriter.message().message(1, node("Relu", "")).message(11, tensorValue("a", FLOAT, 1)))
        .message(7, ProtoWriter.message().message(1, node("Backdoor", "com.evil.ops")).message(11, tensorValue("b", FLOAT, 1)));

    OnnxModel model = read(bytes);

    assertEquals(Set.of("", "com.evil.ops"), model.operatorDomains());
    assertEquals(List.of("a", "b"), model.inputs().stream().map(ValueInfo::name).toList());
  }

  @Test
  void normalizesTheDefaultDomainSpelledOut() throws Exception {
    ProtoWriter bytes = ProtoWriter.message().varint(1, 8)
        .message(8, ProtoWriter.message().string(1, "ai.onnx").varint(2, 13))
        .message(7, ProtoWriter.message().message(1, node("Relu", "ai.onnx")));

    OnnxModel model = read(bytes);

    assertEquals(Map.of("", 13L), model.opsetImports());
    assertEquals(Set.of(""), model.operatorDomains());
  }

  @Test
  void keepsOnlyTensorTypesAndTheLastOfDimValueOrParam() throws Exception {
    ProtoWriter sequence = ProtoWriter.message().string(1, "seq")
        .message(2, ProtoWriter.message().message(4, ProtoWriter.message().message(1, ProtoWriter.message())));
    ProtoWriter flip = ProtoWriter.message().string(1, "flip").message(2, ProtoWriter.message().message(1,
        ProtoWriter.message().varint(1, FLOAT).message(2, ProtoWriter.message()
            .message(1, ProtoWriter.message().varint(1, 3).string(2, "n"))
            .message(1, ProtoWriter.message().string(2, "m").varint(1, 5))
            .message(1, ProtoWriter.message()))));
    ProtoWriter scalar = ProtoWriter.message().string(1, "scalar").message(2, ProtoWriter.message().message(1,
        ProtoWriter.message().varint(1, FLOAT).message(2, ProtoWriter.message())));

    OnnxModel model = read(model(ProtoWriter.message().message(11, sequence).message(11, flip).message(11, scalar)));

    assertEquals(new ValueInfo("seq", 0, null), model.inputs().get(0));
    assertEquals(List.of(Dim.symbolic("n"), Dim.fixed(5), Dim.unknown()), model.inputs().get(1).shape());
    assertEquals(new ValueInfo("scalar", FLOAT, List.of()), model.inputs().get(2));
    assertTrue(model.inputs().get(2).typed());
  }

  @Test
  void refusesAModelWithoutAGraph() {
    var e = assertThrows(InvalidModelException.class, () -> OnnxModelReader.read(new byte[0]));
    assertEquals("not an ONNX model: no graph", e.getMessage());
    e = assertThrows(InvalidModelException.class, () -> read(ProtoWriter.message().varint(1, 8).string(2, "x")));
    assertEquals("not an ONNX model: no graph", e.getMessage());
  }

  @Test
  void refusesProtobufGroups() {
    var e = assertThrows(InvalidModelException.class,
        () -> read(model(ProtoWriter.message().emptyGroup(3))));
    assertTrue(e.getMessage().startsWith("not an ONNX model: unexpected protobuf group (field 3) at byte"), e.getMessage());
  }

  @Test
  void refusesSubgraphsNestedTooDeep() {
    ProtoWriter graph = ProtoWriter.message().message(1, node("Relu", ""));
    for (int depth = 0; depth <= GraphScan.MAX_GRAPH_DEPTH; depth++) {
      graph = ProtoWriter.message().message(1, node("Loop", "", graphAttribute("body", graph)));
    }
    ProtoWriter tooDeep = graph;

    var e = assertThrows(InvalidModelException.class, () -> read(model(tooDeep)));
    assertTrue(e.getMessage().startsWith("subgraphs nested deeper than 64 levels"), e.getMessage());
  }

  @Test
  void saysWhereALengthRunsPastTheEnd(@TempDir Path dir) throws Exception {
    byte[] whole = model(ProtoWriter.message().message(1, node("Relu", ""))).toBytes();
    byte[] cut = Arrays.copyOf(whole, whole.length - 3);
    Files.write(dir.resolve("cut.onnx"), cut);

    for (var read : List.<Read>of(() -> OnnxModelReader.read(cut), () -> OnnxModelReader.read(dir.resolve("cut.onnx")))) {
      var e = assertThrows(InvalidModelException.class, read::run);
      assertTrue(e.getMessage().matches("not an ONNX model: truncated message at byte \\d+"), e.getMessage());
    }
  }

  @Test
  void namesBadWireTypesAndTags() {
    var wireType = assertThrows(InvalidModelException.class, () -> OnnxModelReader.read(new byte[] {0x0f}));
    assertTrue(wireType.getMessage().startsWith("not an ONNX model: invalid wire type"), wireType.getMessage());
    var zeroTag = assertThrows(InvalidModelException.class, () -> OnnxModelReader.read(new byte[] {0x08, 0x01, 0x00}));
    assertTrue(zeroTag.getMessage().startsWith("not an ONNX model: invalid field tag"), zeroTag.getMessage());
  }

  private interface Read {
    void run() throws Exception;
  }
}
