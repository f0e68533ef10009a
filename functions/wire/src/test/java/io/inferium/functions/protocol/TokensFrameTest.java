package io.inferium.functions.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.tensor.DataType;
import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.tensor.Tensors;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class TokensFrameTest {

  private static final List<TokensFrame.Token> TOKENS = List.of(
      new TokensFrame.Token(7, 0, 42, "Hello", 5),
      new TokensFrame.Token(Long.MAX_VALUE, 3, 0, "", 1),
      new TokensFrame.Token(7, 0, 50_256, " w\u00f6rld \u2603\n\"", 5),
      new TokensFrame.Token(-1, 15, Integer.MAX_VALUE, "\ud83d\ude00", 0));

  /** Through the codec, as the gateway receives it. */
  private static List<TokensFrame.Token> received(Frame frame) {
    ByteBuffer encoded = FrameCodec.encode(frame);
    Frame decoded = FrameCodec.decode(encoded.position(4).slice());
    List<TokensFrame.Token> out = new ArrayList<>();
    TokensFrame.read(decoded, (request, choice, id, text, prompt) -> out.add(new TokensFrame.Token(request, choice, id, text, prompt)));
    return out;
  }

  @Test
  void tokensSurviveTheWireInOrderWithTheirText() {
    Frame frame = TokensFrame.of(TOKENS);
    assertEquals(FrameType.TOKENS, frame.type());
    assertEquals(0, frame.correlationId());
    assertTrue(frame.meta().isEmpty(), "no JSON per token: the meta stays empty");
    assertEquals(TOKENS, received(frame));
  }

  @Test
  void anEmptyFrameHandsOutNothing() {
    assertEquals(List.of(), received(TokensFrame.of(List.of())));
  }

  private static ByteBuffer ints(int... values) {
    ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
    for (int v : values) {
      b.putInt(v);
    }
    return b.flip();
  }

  private static Frame withColumns(List<Tensor> columns) {
    return new Frame(FrameType.TOKENS, 0, new JsonObject(), columns);
  }

  /** A hostile or broken node's frames: refused whole, before any token reaches a stream. */
  @Test
  void aMalformedFrameIsRefusedBeforeAnyTokenIsHandedOut() {
    List<Tensor> good = TokensFrame.of(TOKENS.subList(0, 2)).tensors();
    List<TokensFrame.Token> handed = new ArrayList<>();
    TokensFrame.Visitor collect = (r, c, i, t, p) -> handed.add(new TokensFrame.Token(r, c, i, t, p));

    ProtocolException missing = assertThrows(ProtocolException.class, () -> TokensFrame.read(withColumns(good.subList(0, 4)), collect));
    assertTrue(missing.getMessage().contains("5 tensors"), missing.getMessage());

    List<Tensor> shortChoice = new ArrayList<>(good);
    shortChoice.set(1, new Tensor("choice", DataType.INT32, new long[] {1}, ints(0)));
    ProtocolException lengths = assertThrows(ProtocolException.class, () -> TokensFrame.read(withColumns(shortChoice), collect));
    assertTrue(lengths.getMessage().contains("differ in length"), lengths.getMessage());

    List<Tensor> wrongType = new ArrayList<>(good);
    wrongType.set(2, new Tensor("token", DataType.FP32, new long[] {2}, ints(1, 2)));
    ProtocolException type = assertThrows(ProtocolException.class, () -> TokensFrame.read(withColumns(wrongType), collect));
    assertTrue(type.getMessage().contains("'token'"), type.getMessage());

    // A text whose length prefix claims more bytes than the tensor holds.
    ByteBuffer overrun = ByteBuffer.allocate(4 + 2 + 4).order(ByteOrder.LITTLE_ENDIAN);
    overrun.putInt(2).put((byte) 'h').put((byte) 'i').putInt(1_000_000).flip();
    List<Tensor> longText = new ArrayList<>(good);
    longText.set(4, new Tensor("text", DataType.BYTES, new long[] {2}, overrun));
    ProtocolException text = assertThrows(ProtocolException.class, () -> TokensFrame.read(withColumns(longText), collect));
    assertTrue(text.getMessage().contains("overruns"), text.getMessage());

    List<Tensor> trailing = new ArrayList<>(good);
    trailing.set(4, new Tensor("text", DataType.BYTES, new long[] {2},
        ByteBuffer.wrap(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 9}).order(ByteOrder.LITTLE_ENDIAN)));
    ProtocolException extra = assertThrows(ProtocolException.class, () -> TokensFrame.read(withColumns(trailing), collect));
    assertTrue(extra.getMessage().contains("after its 2 elements"), extra.getMessage());

    List<Tensor> renamed = new ArrayList<>(good);
    renamed.set(4, Tensors.strings("words", new long[] {2}, "a", "b"));
    assertThrows(ProtocolException.class, () -> TokensFrame.read(withColumns(renamed), collect));

    assertEquals(List.of(), handed);
  }
}
