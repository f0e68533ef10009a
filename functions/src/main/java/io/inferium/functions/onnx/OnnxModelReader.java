package io.inferium.functions.onnx;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Reads the facts static checks need from an ONNX file, straight off the protobuf wire format.
 *
 * <p>The model is never loaded into a runtime and its weights are never held in memory: a file is
 * streamed, and fields the checks do not use (weights, docs, node names) are skipped unread, as are
 * fields this reader does not know, so files from newer exporters still read. Field numbers follow
 * {@code onnx.proto}.
 */
public final class OnnxModelReader {

  // ModelProto
  private static final int MODEL_IR_VERSION = 1 << 3 | Wire.VARINT;
  private static final int MODEL_PRODUCER_NAME = 2 << 3 | Wire.LEN;
  private static final int MODEL_PRODUCER_VERSION = 3 << 3 | Wire.LEN;
  private static final int MODEL_GRAPH = 7 << 3 | Wire.LEN;
  private static final int MODEL_OPSET_IMPORT = 8 << 3 | Wire.LEN;
  private static final int MODEL_FUNCTIONS = 25 << 3 | Wire.LEN;
  // OperatorSetIdProto
  private static final int OPSET_DOMAIN = 1 << 3 | Wire.LEN;
  private static final int OPSET_VERSION = 2 << 3 | Wire.VARINT;
  // FunctionProto
  private static final int FUNCTION_NAME = 1 << 3 | Wire.LEN;
  private static final int FUNCTION_NODE = 7 << 3 | Wire.LEN;
  private static final int FUNCTION_DOMAIN = 10 << 3 | Wire.LEN;

  private static final int STREAM_BUFFER_BYTES = 64 * 1024;

  private final CodedInputStream in;
  private final GraphScan scan;
  private long irVersion;
  private String producerName = "";
  private String producerVersion = "";
  private final Map<String, Long> opsetImports = new LinkedHashMap<>();
  private final Set<GraphScan.OpUse> localFunctions = new HashSet<>();
  private boolean hasGraph;
  private final List<ValueInfo> graphInputs = new ArrayList<>();
  private final List<ValueInfo> graphOutputs = new ArrayList<>();
  private final Set<String> initializers = new HashSet<>();

  private OnnxModelReader(CodedInputStream in) {
    this.in = in;
    this.scan = new GraphScan(in);
  }

  /** Reads a model file, streaming it. */
  public static OnnxModel read(Path file) throws InvalidModelException {
    try (InputStream stream = Files.newInputStream(file)) {
      return read(CodedInputStream.newInstance(stream, STREAM_BUFFER_BYTES));
    } catch (IOException e) {
      throw new InvalidModelException("cannot read model file " + file.getFileName() + ": " + e, e);
    }
  }

  /** Reads a model held in memory. */
  public static OnnxModel read(byte[] bytes) throws InvalidModelException {
    try {
      return read(CodedInputStream.newInstance(bytes));
    } catch (IOException e) {
      throw new InvalidModelException("cannot read model: " + e, e);
    }
  }

  /** Throws IOException only for failures of the underlying stream, never for bad content. */
  private static OnnxModel read(CodedInputStream in) throws IOException, InvalidModelException {
    OnnxModelReader reader = new OnnxModelReader(in);
    try {
      reader.model();
    } catch (InvalidProtocolBufferException e) {
      throw new InvalidModelException(
          "not an ONNX model: " + describe(e) + " at byte " + in.getTotalBytesRead(), e);
    } catch (RuntimeException e) {
      // The bytes are untrusted: whatever the decoder trips on is the file's fault, not a crash.
      throw new InvalidModelException("not an ONNX model: unreadable protobuf (" + e + ") at byte "
          + in.getTotalBytesRead(), e);
    }
    if (!reader.hasGraph) {
      throw new InvalidModelException("not an ONNX model: no graph");
    }
    return reader.result();
  }

  private void model() throws IOException, InvalidModelException {
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      switch (tag) {
        case MODEL_IR_VERSION -> irVersion = in.readInt64();
        case MODEL_PRODUCER_NAME -> producerName = in.readString();
        case MODEL_PRODUCER_VERSION -> producerVersion = in.readString();
        case MODEL_OPSET_IMPORT -> opsetImport();
        case MODEL_GRAPH -> graph();
        case MODEL_FUNCTIONS -> function();
        default -> Wire.skip(in, tag);
      }
    }
  }

  private void graph() throws IOException, InvalidModelException {
    // A message field that occurs twice is merged by protobuf, and so by ONNX Runtime: keep both.
    GraphScan.Interface graph = scan.graph(0);
    hasGraph = true;
    graphInputs.addAll(graph.inputs());
    graphOutputs.addAll(graph.outputs());
    initializers.addAll(graph.initializers());
  }

  private void opsetImport() throws IOException, InvalidModelException {
    String domain = "";
    long version = 0;
    int outer = Wire.enter(in);
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      switch (tag) {
        case OPSET_DOMAIN -> domain = in.readString();
        case OPSET_VERSION -> version = in.readInt64();
        default -> Wire.skip(in, tag);
      }
    }
    in.popLimit(outer);
    // A domain imported twice is invalid; keeping the higher version errs towards rejecting it.
    opsetImports.merge(OnnxNames.normalizeDomain(domain), version, Math::max);
  }

  private void function() throws IOException, InvalidModelException {
    String name = "";
    String domain = "";
    int outer = Wire.enter(in);
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      switch (tag) {
        case FUNCTION_NAME -> name = in.readString();
        case FUNCTION_DOMAIN -> domain = in.readString();
        case FUNCTION_NODE -> scan.node(0);
        default -> Wire.skip(in, tag);
      }
    }
    in.popLimit(outer);
    localFunctions.add(new GraphScan.OpUse(OnnxNames.normalizeDomain(domain), name));
  }

  private OnnxModel result() {
    List<ValueInfo> inputs = graphInputs.stream().filter(v -> !initializers.contains(v.name())).toList();
    Set<String> domains = new HashSet<>();
    Map<String, Integer> counts = new HashMap<>();
    for (GraphScan.OpUse op : scan.ops()) {
      // Calls to model-local functions are not operators; their bodies' nodes are in ops() too.
      if (!localFunctions.contains(op)) {
        domains.add(op.domain());
        counts.merge(OnnxModel.operatorKey(op.domain(), op.opType()), 1, Integer::sum);
      }
    }
    return new OnnxModel(irVersion, opsetImports, producerName, producerVersion, inputs,
        graphOutputs, domains, counts, new ArrayList<>(scan.externalLocations()), scan.nodeCount());
  }

  /** protobuf's messages are long and generic; say the same in the words of a report line. */
  private static String describe(InvalidProtocolBufferException e) {
    String message = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
    if (message.contains("ended unexpectedly")) {
      return "truncated message";
    } else if (message.contains("negative size")) {
      return "negative field length";
    } else if (message.contains("malformed varint")) {
      return "malformed varint";
    } else if (message.contains("invalid wire type")) {
      return "invalid wire type";
    } else if (message.contains("invalid tag")) {
      return "invalid field tag";
    } else if (message.contains("size limit")) {
      return "message larger than protobuf allows (2 GiB)";
    }
    return e.getMessage();
  }
}
