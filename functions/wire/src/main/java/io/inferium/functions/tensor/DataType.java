package io.inferium.functions.tensor;

import java.util.Optional;

/**
 * The tensor element types Inferium carries, named as in the KServe Open Inference Protocol v2 and
 * mapped to ONNX {@code TensorProto.DataType} numbers. {@link #BYTES} holds variable-length strings;
 * every other type has a fixed little-endian width.
 */
public enum DataType {
  BOOL(9, 1),
  UINT8(2, 1),
  UINT16(4, 2),
  UINT32(12, 4),
  UINT64(13, 8),
  INT8(3, 1),
  INT16(5, 2),
  INT32(6, 4),
  INT64(7, 8),
  FP16(10, 2),
  BF16(16, 2),
  FP32(1, 4),
  FP64(11, 8),
  BYTES(8, -1);

  /** The constants once: {@code values()} copies the array at every call. */
  private static final DataType[] VALUES = values();

  private final int onnxType;
  private final int byteSize;

  DataType(int onnxType, int byteSize) {
    this.onnxType = onnxType;
    this.byteSize = byteSize;
  }

  /** The ONNX {@code TensorProto.DataType} number. */
  public int onnxType() {
    return onnxType;
  }

  /** Bytes per element, or -1 for {@link #BYTES}. */
  public int byteSize() {
    return byteSize;
  }

  public boolean isFixedWidth() {
    return byteSize > 0;
  }

  public boolean isFloatingPoint() {
    return this == FP16 || this == BF16 || this == FP32 || this == FP64;
  }

  /** The V2 name ({@code "FP32"}, {@code "BYTES"}, ...). */
  public String v2Name() {
    return name();
  }

  /** Parses a V2 datatype name, case-insensitively. */
  public static Optional<DataType> fromV2(String name) {
    if (name == null) {
      return Optional.empty();
    }
    // Every tensor of every request is named so: a scan of fourteen names (most differ in length, which is checked
    // first), with no upper-cased copy and no exception for a name that is none of them.
    for (DataType t : VALUES) {
      if (t.name().equalsIgnoreCase(name)) {
        return Optional.of(t);
      }
    }
    return Optional.empty();
  }

  /** Maps an ONNX element type number; empty for types Inferium does not carry (complex, float8, ...). */
  public static Optional<DataType> fromOnnx(int onnxType) {
    for (DataType t : VALUES) {
      if (t.onnxType == onnxType) {
        return Optional.of(t);
      }
    }
    return Optional.empty();
  }
}
