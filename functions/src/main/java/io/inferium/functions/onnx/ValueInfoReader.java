package io.inferium.functions.onnx;

import com.google.protobuf.CodedInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads one {@code ValueInfoProto}: the name, and the element type and shape when the type is a
 * tensor. Sequence, map, optional and sparse types are skipped whole, so their nesting costs nothing.
 */
final class ValueInfoReader {

  // ValueInfoProto
  private static final int VALUE_NAME = 1 << 3 | Wire.LEN;
  private static final int VALUE_TYPE = 2 << 3 | Wire.LEN;
  // TypeProto
  private static final int TYPE_TENSOR = 1 << 3 | Wire.LEN;
  // TypeProto.Tensor
  private static final int TENSOR_ELEM_TYPE = 1 << 3 | Wire.VARINT;
  private static final int TENSOR_SHAPE = 2 << 3 | Wire.LEN;
  // TensorShapeProto and its Dimension
  private static final int SHAPE_DIM = 1 << 3 | Wire.LEN;
  private static final int DIM_VALUE = 1 << 3 | Wire.VARINT;
  private static final int DIM_PARAM = 2 << 3 | Wire.LEN;

  private final CodedInputStream in;
  private String name = "";
  private int elemType;
  private List<Dim> shape;

  private ValueInfoReader(CodedInputStream in) {
    this.in = in;
  }

  /** Reads the embedded {@code ValueInfoProto} whose tag has just been read. */
  static ValueInfo read(CodedInputStream in) throws IOException, InvalidModelException {
    ValueInfoReader reader = new ValueInfoReader(in);
    reader.valueInfo();
    return new ValueInfo(reader.name, reader.elemType, reader.shape);
  }

  private void valueInfo() throws IOException, InvalidModelException {
    int outer = Wire.enter(in);
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      switch (tag) {
        case VALUE_NAME -> name = in.readString();
        case VALUE_TYPE -> type();
        default -> Wire.skip(in, tag);
      }
    }
    in.popLimit(outer);
  }

  private void type() throws IOException, InvalidModelException {
    int outer = Wire.enter(in);
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      if (tag == TYPE_TENSOR) {
        tensorType();
      } else {
        Wire.skip(in, tag);
      }
    }
    in.popLimit(outer);
  }

  private void tensorType() throws IOException, InvalidModelException {
    int outer = Wire.enter(in);
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      switch (tag) {
        case TENSOR_ELEM_TYPE -> elemType = in.readInt32();
        case TENSOR_SHAPE -> shape();
        default -> Wire.skip(in, tag);
      }
    }
    in.popLimit(outer);
  }

  private void shape() throws IOException, InvalidModelException {
    shape = new ArrayList<>();
    int outer = Wire.enter(in);
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      if (tag == SHAPE_DIM) {
        shape.add(dimension());
      } else {
        Wire.skip(in, tag);
      }
    }
    in.popLimit(outer);
  }

  private Dim dimension() throws IOException, InvalidModelException {
    Dim dim = Dim.unknown();
    int outer = Wire.enter(in);
    for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
      // dim_value and dim_param are a oneof: the last one on the wire wins.
      switch (tag) {
        case DIM_VALUE -> {
          long value = in.readInt64();
          dim = value >= 0 ? Dim.fixed(value) : Dim.unknown();
        }
        case DIM_PARAM -> {
          String param = in.readString();
          dim = param.isEmpty() ? Dim.unknown() : Dim.symbolic(param);
        }
        default -> Wire.skip(in, tag);
      }
    }
    in.popLimit(outer);
    return dim;
  }
}
