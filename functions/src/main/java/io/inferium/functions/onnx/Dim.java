package io.inferium.functions.onnx;

/**
 * One dimension of a declared tensor shape.
 *
 * @param value the size, or -1 when the dimension is symbolic or unknown
 * @param param the symbolic name ({@code "batch"}), or null when the dimension has none
 */
public record Dim(long value, String param) {

  /** A dimension of fixed size. */
  public static Dim fixed(long value) {
    return new Dim(value, null);
  }

  /** A dimension named by a symbol, sized at run time. */
  public static Dim symbolic(String param) {
    return new Dim(-1, param);
  }

  /** A dimension with neither a size nor a name. */
  public static Dim unknown() {
    return new Dim(-1, null);
  }

  public boolean isFixed() {
    return value >= 0;
  }

  @Override
  public String toString() {
    if (isFixed()) {
      return Long.toString(value);
    }
    return param == null ? "?" : param;
  }
}
