package io.inferium.functions.protocol;

/** Frame types of the gateway ⇄ worker protocol; {@code docs/PROTOCOL.md} describes each one. */
public enum FrameType {
  HELLO(1),
  WELCOME(2),
  LOAD(3),
  LOADED(4),
  UNLOAD(5),
  UNLOADED(6),
  INFER(7),
  RESULT(8),
  ERROR(9),
  HEARTBEAT(10),
  CANCEL(11),
  GENERATE(12),
  // 13 was TOKEN (one frame per token), replaced by TOKENS; the number stays unused.
  EMBED(14),
  SCORE(15),
  TOKENS(16),
  SEAL(17),
  /** Gateway → remote node, first frame on the node port: a fresh nonce and the gateway's identity to sign. */
  CHALLENGE(18),
  /** Remote node → gateway: a byte range of a model blob the gateway asked it to load (by sha256). */
  FETCH(19),
  /** Gateway → remote node: the bytes of a FETCH, as one UINT8 tensor {@code data}. */
  BLOB(20);

  private static final FrameType[] BY_CODE = new FrameType[32];

  static {
    for (FrameType t : values()) {
      BY_CODE[t.code] = t;
    }
  }

  private final int code;

  FrameType(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  public static FrameType of(int code) {
    FrameType t = code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    if (t == null) {
      throw new ProtocolException("unknown frame type " + code);
    }
    return t;
  }
}
