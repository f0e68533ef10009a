package io.inferium.functions;

/** Lifecycle of a deployed function version: only {@link #READY} versions serve requests. */
public enum FunctionState {
  VERIFYING,
  READY,
  REJECTED;

  public String wire() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  public static FunctionState fromWire(String s) {
    return valueOf(s.toUpperCase(java.util.Locale.ROOT));
  }
}
