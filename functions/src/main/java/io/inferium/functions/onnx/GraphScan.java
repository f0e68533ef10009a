package io.inferium.functions.onnx;

import com.google.protobuf.CodedInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Walks graphs, nodes, attributes and tensors, gathering the operators used, the tensors whose
 * data lives outside the file and the node count. One scan covers a whole model: the main graph,
 * every subgraph reached through node attributes, and the bodies of model-local functions.
 */
final class GraphScan {

  /** Subgraph nesting beyond this is refused rather than risk the reader's stack. */
  static final int MAX_GRAPH_DEPTH = 64;

  // GraphProto
  private static final int GRAPH_NODE = 1 << 3 | Wire.LEN;
  private static final int GRAPH_INITIALIZER = 5 << 3 | Wire.LEN;
  private static final int GRAPH_INPUT = 11 << 3 | Wire.LEN;
  private static final int GRAPH_OUTPUT = 12 << 3 | Wire.LEN;
  private static final int GRAPH_SPARSE_INITIALIZER = 15 << 3 | Wire.LEN;
  // NodeProto
  private static final int NODE_OP_TYPE = 4 << 3 | Wire.LEN;
  private static final int NODE_ATTRIBUTE = 5 << 3 | Wire.LEN;
  private static final int NODE_DOMAIN = 7 << 3 | Wire.LEN;
  // AttributeProto: the fields that can hold graphs or tensors
  private static final int ATTR_TENSOR = 5 << 3 | Wire.LEN;
  private static final int ATTR_GRAPH = 6 << 3 | Wire.LEN;
  private static final int ATTR_TENSORS = 10 << 3 | Wire.LEN;
  private static final int ATTR_GRAPHS = 11 << 3 | Wire.LEN;
  private static final int ATTR_SPARSE_TENSOR = 22 << 3 | Wire.LEN;
  private static final int ATTR_SPARSE_TENSORS = 23 << 3 | Wire.LEN;
  // TensorProto
  private static final int TENSOR_NAME = 8 << 3 | Wire.LEN;
  private static final int TENSOR_EXTERNAL_DATA = 13 << 3 | Wire.LEN;
  private static final int TENSOR_DATA_LOCATION = 14 << 3 | Wire.VARINT;
  private static final int DATA_LOCATION_EXTERNAL = 1;
  // SparseTensorProto
  private static final int SPARSE_VALUES = 1 << 3 | Wire.LEN;
  private static final int SPARSE_INDICES = 2 << 3 | Wire.LEN;
  // StringStringEntryProto
  private static final int ENTRY_KEY = 1 << 3 | Wire.LEN;
  private static final int ENTRY_VALUE = 2 << 3 | Wire.LEN;

  /** One node's operator, before calls to model-local functions are told apart. */
  record OpUse(String domain, String opType) {}

  /** What the caller of a graph sees: its declared inputs and outputs and its initializer names. */
  record Interface(List<ValueInfo> inputs, List<ValueInfo> outputs, Set<String> initializers) {}

  private final CodedInputStream in;
  private final List<OpUse> ops = new ArrayList<>();
  private final Set<String> externalLocations = new LinkedHashSet<>();
  private int nodeCount;

  GraphScan(CodedInputStream in) {
    this.in = in;
  }

  List<OpUse> ops() {
    return ops;
  }

  Set<String> externalLocations() {
    return externalLocations;
  }

  int nodeCount() {
    return nodeCount;
  }

  /** Reads the embedded {@code GraphProto} whose tag has just been read. */
  Interface graph(int depth) throws IOException, InvalidModelException {
    if (depth > MAX_GRAPH_DEPTH) {
      throw new InvalidModelException("subgraphs nested deeper than " + MAX_GRAPH_DEPTH
          + " levels at byte " + in.getTotalBytesRead());
    }
    List<ValueInfo> inputs = new ArrayList<>();
    List<ValueInfo> outputs = new ArrayList<>();
    Set<String> initializers = new HashSet<>();
    int outer = Wire.enter(in);
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      switch (tag) {
        case GRAPH_NODE -> node(depth);
        case GRAPH_INITIALIZER -> initializers.add(tensor());
        case GRAPH_SPARSE_INITIALIZER -> initializers.add(sparseTensor());
        case GRAPH_INPUT -> inputs.add(ValueInfoReader.read(in));
        case GRAPH_OUTPUT -> outputs.add(ValueInfoReader.read(in));
        default -> Wire.skip(in, tag);
      }
    }
    in.popLimit(outer);
    return new Interface(inputs, outputs, initializers);
  }

  /** Reads the embedded {@code NodeProto} whose tag has just been read. */
  void node(int depth) throws IOException, InvalidModelException {
    String opType = "";
    String domain = "";
    int outer = Wire.enter(in);
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      switch (tag) {
        case NODE_OP_TYPE -> opType = in.readString();
        case NODE_DOMAIN -> domain = in.readString();
        case NODE_ATTRIBUTE -> attribute(depth);
        default -> Wire.skip(in, tag);
      }
    }
    in.popLimit(outer);
    ops.add(new OpUse(OnnxNames.normalizeDomain(domain), opType));
    nodeCount++;
  }

  private void attribute(int depth) throws IOException, InvalidModelException {
    int outer = Wire.enter(in);
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      switch (tag) {
        case ATTR_GRAPH, ATTR_GRAPHS -> graph(depth + 1);
        case ATTR_TENSOR, ATTR_TENSORS -> tensor();
        case ATTR_SPARSE_TENSOR, ATTR_SPARSE_TENSORS -> sparseTensor();
        default -> Wire.skip(in, tag);
      }
    }
    in.popLimit(outer);
  }

  /** Reads an embedded {@code TensorProto}, noting external data; returns the tensor's name. */
  private String tensor() throws IOException, InvalidModelException {
    String name = "";
    String location = null;
    boolean external = false;
    int outer = Wire.enter(in);
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      switch (tag) {
        case TENSOR_NAME -> name = in.readString();
        case TENSOR_DATA_LOCATION -> external |= in.readEnum() == DATA_LOCATION_EXTERNAL;
        case TENSOR_EXTERNAL_DATA -> {
          // Runtimes ignore these entries unless data_location is EXTERNAL, but a file that
          // carries them is asking for an outside path either way, so they count too.
          external = true;
          String value = externalDataLocation();
          location = value != null ? value : location;
        }
        default -> Wire.skip(in, tag);
      }
    }
    in.popLimit(outer);
    if (external) {
      externalLocations.add(location != null ? location : "(tensor '" + name + "' names no location)");
    }
    return name;
  }

  /** Reads one {@code external_data} entry; returns its value when the key is "location". */
  private String externalDataLocation() throws IOException, InvalidModelException {
    String key = "";
    String value = "";
    int outer = Wire.enter(in);
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      switch (tag) {
        case ENTRY_KEY -> key = in.readString();
        case ENTRY_VALUE -> value = in.readString();
        default -> Wire.skip(in, tag);
      }
    }
    in.popLimit(outer);
    return "location".equals(key) ? value : null;
  }

  /** Reads an embedded {@code SparseTensorProto}; its name is the name of its values tensor. */
  private String sparseTensor() throws IOException, InvalidModelException {
    String name = "";
    int outer = Wire.enter(in);
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      switch (tag) {
        case SPARSE_VALUES -> name = tensor();
        case SPARSE_INDICES -> tensor();
        default -> Wire.skip(in, tag);
      }
    }
    in.popLimit(outer);
    return name;
  }
}
