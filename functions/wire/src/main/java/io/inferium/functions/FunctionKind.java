package io.inferium.functions;

import java.util.Arrays;
import java.util.Optional;
import java.util.stream.Collectors;

/** What a function does, which decides its endpoints, metrics and evaluation suite. */
public enum FunctionKind {
  TENSOR("tensor"),
  CLASSIFIER("classifier"),
  REGRESSOR("regressor"),
  EMBEDDING("embedding"),
  TEXT_GENERATION("text-generation");

  private final String wire;

  FunctionKind(String wire) {
    this.wire = wire;
  }

  public String wire() {
    return wire;
  }

  public static Optional<FunctionKind> fromWire(String s) {
    return Arrays.stream(values()).filter(k -> k.wire.equals(s)).findFirst();
  }

  public static String accepted() {
    return Arrays.stream(values()).map(FunctionKind::wire).collect(Collectors.joining(" | "));
  }
}
