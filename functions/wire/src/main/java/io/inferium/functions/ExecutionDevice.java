package io.inferium.functions;

import java.util.Locale;

/** Where a worker asks ONNX Runtime to execute: {@code auto} takes CUDA when the build and machine have it. */
public enum ExecutionDevice {
  AUTO, CPU, CUDA;

  public static ExecutionDevice parse(String s) {
    try {
      return valueOf(s.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("device: expected auto | cpu | cuda, got '" + s + "'");
    }
  }
}
