package io.inferium.functions.onnx;

/** Spellings shared by the reader and the checks: operator domains and ONNX element type names. */
final class OnnxNames {

  static final String DEFAULT_DOMAIN = "";
  static final String ONNX_DOMAIN_ALIAS = "ai.onnx";

  // Indexed by TensorProto.DataType number (onnx.proto).
  private static final String[] ELEM_TYPES = {
    "UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64", "STRING", "BOOL",
    "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16",
    "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4", "INT4", "FLOAT4E2M1"
  };

  private OnnxNames() {}

  /** ONNX lets the default domain be written as "" or "ai.onnx"; Inferium uses "". */
  static String normalizeDomain(String domain) {
    return domain == null || ONNX_DOMAIN_ALIAS.equals(domain) ? DEFAULT_DOMAIN : domain;
  }

  /** The domain as a developer reads it: "" shows as "ai.onnx". */
  static String displayDomain(String domain) {
    return DEFAULT_DOMAIN.equals(domain) ? ONNX_DOMAIN_ALIAS : domain;
  }

  static String elemType(int number) {
    return number >= 0 && number < ELEM_TYPES.length ? ELEM_TYPES[number] : "type " + number;
  }
}
