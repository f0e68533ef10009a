package io.inferium.functions.protocol;

import io.inferium.functions.tensor.DataType;
import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.tensor.Tensors;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The body of a {@link FrameType#TOKENS} frame: the tokens a worker held since its last one, as five columns of one
 * length n (tensors, so no JSON is written by the worker or parsed by the gateway per token):
 *
 * <pre>
 * request        INT64 [n]  the generation's request id
 * choice         INT32 [n]  the choice index
 * token          INT32 [n]  the token id
 * prompt_tokens  INT32 [n]  the generation's prompt length
 * text           BYTES [n]  the text the token adds (UTF-8)
 * </pre>
 *
 * The far end may be a hostile node: {@link #read} refuses a frame whose columns are missing, mistyped or of
 * different lengths before it hands out any token.
 */
public final class TokensFrame {

  /** One streamed token. */
  public record Token(long requestId, int choice, int id, String text, int promptTokens) {}

  /** Receives a frame's tokens in order, without a record per token. */
  @FunctionalInterface
  public interface Visitor {
    void token(long requestId, int choice, int id, String text, int promptTokens);
  }

  static final String REQUEST = "request";
  static final String CHOICE = "choice";
  static final String TOKEN = "token";
  static final String PROMPT_TOKENS = "prompt_tokens";
  static final String TEXT = "text";

  private TokensFrame() {}

  /** A TOKENS frame (correlation id 0) carrying {@code tokens} in order. */
  public static Frame of(List<Token> tokens) {
    int n = tokens.size();
    ByteBuffer request = column(n, Long.BYTES);
    ByteBuffer choice = column(n, Integer.BYTES);
    ByteBuffer token = column(n, Integer.BYTES);
    ByteBuffer prompt = column(n, Integer.BYTES);
    String[] text = new String[n];
    for (int i = 0; i < n; i++) {
      Token t = tokens.get(i);
      request.putLong(t.requestId());
      choice.putInt(t.choice());
      token.putInt(t.id());
      prompt.putInt(t.promptTokens());
      text[i] = t.text();
    }
    long[] shape = {n};
    return new Frame(FrameType.TOKENS, 0, new JsonObject(), List.of(
        new Tensor(REQUEST, DataType.INT64, shape, request.flip()),
        new Tensor(CHOICE, DataType.INT32, shape, choice.flip()),
        new Tensor(TOKEN, DataType.INT32, shape, token.flip()),
        new Tensor(PROMPT_TOKENS, DataType.INT32, shape, prompt.flip()),
        Tensors.strings(TEXT, shape, text)));
  }

  /**
   * Hands each token of a TOKENS frame to {@code visitor}, in order.
   *
   * @throws ProtocolException if the frame is not five well-formed columns of one length (checked before the first
   *     token is handed out)
   */
  public static void read(Frame frame, Visitor visitor) {
    if (frame.tensors().size() != 5) {
      throw new ProtocolException("a TOKENS frame carries 5 tensors (request, choice, token, prompt_tokens, text), not "
          + frame.tensors().size());
    }
    ByteBuffer request = fixed(frame.tensors().get(0), REQUEST, DataType.INT64);
    int n = request.remaining() / Long.BYTES;
    ByteBuffer choice = fixed(frame.tensors().get(1), CHOICE, DataType.INT32);
    ByteBuffer token = fixed(frame.tensors().get(2), TOKEN, DataType.INT32);
    ByteBuffer prompt = fixed(frame.tensors().get(3), PROMPT_TOKENS, DataType.INT32);
    Tensor text = frame.tensors().get(4);
    if (!TEXT.equals(text.name()) || text.type() != DataType.BYTES) {
      throw new ProtocolException("a TOKENS frame's fifth tensor is 'text' of BYTES, not '" + text.name() + "' of "
          + text.type());
    }
    if (choice.remaining() / Integer.BYTES != n || token.remaining() / Integer.BYTES != n
        || prompt.remaining() / Integer.BYTES != n || text.elementCount() != n) {
      throw new ProtocolException("a TOKENS frame's columns differ in length (" + n + " request ids)");
    }
    ByteBuffer texts = text.view();
    int start = texts.position();
    int[] from = new int[n];
    int[] length = new int[n];
    for (int i = 0; i < n; i++) {
      int size = texts.remaining() < Integer.BYTES ? -1 : texts.getInt();
      if (size < 0 || size > texts.remaining()) {
        throw new ProtocolException("a TOKENS frame's text " + i + " overruns its tensor");
      }
      from[i] = texts.position() - start;
      length[i] = size;
      texts.position(texts.position() + size);
    }
    if (texts.hasRemaining()) {
      throw new ProtocolException("a TOKENS frame's text tensor has " + texts.remaining() + " bytes after its " + n
          + " elements");
    }
    byte[] bytes = new byte[texts.limit() - start];
    texts.get(start, bytes);
    for (int i = 0; i < n; i++) {
      visitor.token(request.getLong(), choice.getInt(), token.getInt(),
          new String(bytes, from[i], length[i], StandardCharsets.UTF_8), prompt.getInt());
    }
  }

  private static ByteBuffer column(int n, int width) {
    return ByteBuffer.allocate(n * width).order(ByteOrder.LITTLE_ENDIAN);
  }

  /** A fixed-width column's little-endian data, checked for its name and type. */
  private static ByteBuffer fixed(Tensor t, String name, DataType type) {
    if (!name.equals(t.name()) || t.type() != type || t.shape().length != 1) {
      throw new ProtocolException("a TOKENS frame's '" + name + "' is a vector of " + type + ", not '" + t.name()
          + "' of " + t.type() + " with shape " + java.util.Arrays.toString(t.shape()));
    }
    return t.view();
  }
}
