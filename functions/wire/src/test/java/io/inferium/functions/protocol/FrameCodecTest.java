package io.inferium.functions.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.tensor.DataType;
import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.tensor.Tensors;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class FrameCodecTest {

  private static final Frame INFER = new Frame(FrameType.INFER, 0x0102_0304_0506_0708L,
      new JsonObject().put("sha256", "ab".repeat(32)).put("outputs", new JsonArray().add("sum")),
      List.of(
          Tensors.fp32("matrix", new long[] {2, 2}, 1, -2.5f, Float.NaN, Float.MIN_VALUE),
          Tensors.strings("words", new long[] {3}, "", "h\u00e9llo", "\u2603"),
          Tensors.int64("scalar", new long[0], Long.MIN_VALUE),
          Tensors.fp32("empty", new long[] {0, 4}),
          Tensors.bool("mask", new long[] {1, 2}, true, false)));

  /** The frame body: everything after the 4-byte length prefix. */
  private static ByteBuffer body(Frame frame) {
    ByteBuffer encoded = FrameCodec.encode(frame);
    return encoded.position(4).slice();
  }

  private static byte[] bodyBytes(Frame frame) {
    ByteBuffer body = body(frame);
    byte[] out = new byte[body.remaining()];
    body.get(out);
    return out;
  }

  private static String refused(byte[] body) {
    return assertThrows(ProtocolException.class, () -> FrameCodec.decode(ByteBuffer.wrap(body))).getMessage();
  }

  /** Offset of the first tensor's record in the body of a frame with the given meta. */
  private static int firstTensorAt(Frame frame) {
    return 1 + 8 + 4 + frame.meta().encode().getBytes(StandardCharsets.UTF_8).length + 2;
  }

  @Test
  void aFrameSurvivesTheRoundTrip() {
    ByteBuffer encoded = FrameCodec.encode(INFER);

    assertEquals(ByteOrder.BIG_ENDIAN, encoded.order());
    assertEquals(encoded.remaining() - 4, encoded.getInt(0), "the prefix counts the bytes after it");
    Frame decoded = FrameCodec.decode(encoded.duplicate().position(4));

    assertEquals(INFER.type(), decoded.type());
    assertEquals(INFER.correlationId(), decoded.correlationId());
    assertEquals(INFER.meta(), decoded.meta());
    assertEquals(INFER.tensors(), decoded.tensors());
    assertArrayEquals(new String[] {"", "h\u00e9llo", "\u2603"}, Tensors.toStrings(decoded.tensors().get(1)));
    assertArrayEquals(new long[0], decoded.tensors().get(2).shape());
    assertArrayEquals(new long[] {Long.MIN_VALUE}, Tensors.toLongArray(decoded.tensors().get(2)));
    assertEquals(0, decoded.tensors().get(3).byteSize());
    assertArrayEquals(new long[] {0, 4}, decoded.tensors().get(3).shape());
  }

  @Test
  void everyFrameTypeAndAnEmptyFrameRoundTrip() {
    for (FrameType type : FrameType.values()) {
      Frame decoded = FrameCodec.decode(body(Frame.of(type, -1, null)));
      assertEquals(type, decoded.type());
      assertEquals(-1, decoded.correlationId());
      assertEquals(new JsonObject(), decoded.meta());
      assertEquals(List.of(), decoded.tensors());
    }
  }

  @Test
  void anErrorFrameCarriesCodeAndMessage() {
    Frame decoded = FrameCodec.decode(body(Frame.error(9, "bad_input", "input 'a': wrong shape")));

    assertEquals(FrameType.ERROR, decoded.type());
    assertEquals(new JsonObject().put("code", "bad_input").put("message", "input 'a': wrong shape"), decoded.meta());
  }

  @Test
  void aZeroLengthMetaDecodesAsAnEmptyObject() {
    ByteBuffer body = ByteBuffer.allocate(1 + 8 + 4 + 2);
    body.put((byte) FrameType.HEARTBEAT.code()).putLong(5).putInt(0).putShort((short) 0).flip();

    Frame decoded = FrameCodec.decode(body);

    assertEquals(FrameType.HEARTBEAT, decoded.type());
    assertEquals(new JsonObject(), decoded.meta());
  }

  @Test
  void decodedTensorDataAreSlicesOfTheBodyNotCopies() {
    byte[] bytes = bodyBytes(INFER);
    ByteBuffer body = ByteBuffer.wrap(bytes);

    Tensor matrix = FrameCodec.decode(body).tensors().get(0);

    assertTrue(matrix.data().hasArray());
    assertSame(bytes, matrix.data().array(), "backed by the body's array");
    int offset = matrix.data().arrayOffset() + matrix.data().position();
    assertEquals(16, matrix.byteSize());
    bytes[offset] = 0;
    bytes[offset + 1] = 0;
    bytes[offset + 2] = (byte) 0x80;
    bytes[offset + 3] = 0x3f;
    assertEquals(1f, Tensors.toFloatArray(matrix)[0], "a write to the body shows through");
    assertEquals(-2.5f, Tensors.toFloatArray(matrix)[1]);
  }

  @Test
  void aDirectBodyGivesDirectSlices() {
    byte[] bytes = bodyBytes(INFER);
    ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();

    Frame decoded = FrameCodec.decode(direct);

    assertTrue(decoded.tensors().stream().allMatch(t -> t.data().isDirect()));
    Tensor mask = decoded.tensors().get(4);
    direct.put(bytes.length - 1, (byte) 1);
    assertArrayEquals(new long[] {1, 1}, Tensors.toLongArray(mask), "a write to the body shows through");
  }

  @Test
  void decodingLeavesTheBodyPositionAlone() {
    ByteBuffer body = body(INFER);
    int position = body.position();
    int limit = body.limit();

    FrameCodec.decode(body);

    assertEquals(position, body.position());
    assertEquals(limit, body.limit());
  }

  @Test
  void everyTruncationIsAProtocolException() {
    byte[] bytes = bodyBytes(INFER);
    for (int length = 0; length < bytes.length; length++) {
      ByteBuffer cut = ByteBuffer.wrap(bytes, 0, length).slice();
      ProtocolException e = assertThrows(ProtocolException.class, () -> FrameCodec.decode(cut), "cut at " + length);
      String message = e.getMessage();
      assertTrue(message.equals("truncated frame") || message.contains("exceeds the frame"),
          "cut at " + length + ": " + message);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 13, 21, 99, 255})
  void anUnknownFrameTypeIsNamed(int code) {
    byte[] bytes = bodyBytes(INFER);
    bytes[0] = (byte) code;

    assertEquals("unknown frame type " + code, refused(bytes));
  }

  @Test
  void anUnknownElementTypeIsNamed() {
    byte[] bytes = bodyBytes(INFER);
    int nameLength = "matrix".length();
    bytes[firstTensorAt(INFER) + 2 + nameLength] = (byte) 200;

    assertEquals("unknown tensor element type 200", refused(bytes));
  }

  @ParameterizedTest
  @ValueSource(ints = {-1, Integer.MIN_VALUE, 1 << 20})
  void aMetaLengthBeyondTheFrameIsRefused(int metaLength) {
    ByteBuffer body = ByteBuffer.wrap(bodyBytes(INFER));
    body.putInt(9, metaLength);

    assertEquals("meta length " + metaLength + " exceeds the frame", refused(body.array()));
  }

  @ParameterizedTest
  @ValueSource(longs = {-1, Long.MAX_VALUE, 17})
  void aTensorDataLengthBeyondTheFrameIsRefused(long dataLength) {
    // A frame with one tensor of 16 bytes, so its data length field sits 8 bytes before the end.
    Frame one = new Frame(FrameType.RESULT, 1, null, List.of(Tensors.fp32("y", new long[] {4}, 1, 2, 3, 4)));
    ByteBuffer body = ByteBuffer.wrap(bodyBytes(one));
    body.putLong(body.limit() - 16 - 8, dataLength);

    assertEquals("tensor data length " + dataLength + " exceeds the frame", refused(body.array()));
  }

  @Test
  void trailingBytesAreRefused() {
    byte[] bytes = bodyBytes(INFER);
    byte[] longer = Arrays.copyOf(bytes, bytes.length + 3);

    assertEquals("3 trailing bytes after the last tensor", refused(longer));
  }

  @ParameterizedTest
  @ValueSource(strings = {"{not json", "[1, 2]", "\"text\"", "null"})
  void metaThatIsNotAJsonObjectIsRefused(String meta) {
    byte[] json = meta.getBytes(StandardCharsets.UTF_8);
    ByteBuffer body = ByteBuffer.allocate(1 + 8 + 4 + json.length + 2);
    body.put((byte) FrameType.LOAD.code()).putLong(1).putInt(json.length).put(json).putShort((short) 0).flip();

    String message = assertThrows(ProtocolException.class, () -> FrameCodec.decode(body)).getMessage();

    assertTrue(message.startsWith("frame meta is not JSON"), message);
  }

  @Test
  void theElementTypeIsSentAsItsOnnxNumber() {
    for (DataType type : DataType.values()) {
      Tensor t = new Tensor("t", type, new long[] {0}, ByteBuffer.allocate(0));
      Frame frame = new Frame(FrameType.RESULT, 3, null, List.of(t));
      byte[] bytes = bodyBytes(frame);

      assertEquals(type.onnxType(), bytes[firstTensorAt(frame) + 2 + 1] & 0xff, type.name());
      assertEquals(type, FrameCodec.decode(ByteBuffer.wrap(bytes)).tensors().get(0).type());
    }
  }

  private static Tensor ofRank(int rank) {
    long[] shape = new long[rank];
    Arrays.fill(shape, 1);
    return Tensors.fp32("deep", shape, 7f);
  }

  @Test
  void encodeRefusesWhatTheHeaderFieldsCannotHold() {
    assertEquals("tensor 'deep' has rank 256; a frame carries at most 255 dimensions",
        assertThrows(ProtocolException.class, () -> FrameCodec.encode(
            new Frame(FrameType.RESULT, 1, null, List.of(ofRank(256))))).getMessage());

    String longName = "n".repeat(65_536);
    assertEquals("tensor name of 65536 bytes; a frame carries at most 65535",
        assertThrows(ProtocolException.class, () -> FrameCodec.encode(new Frame(FrameType.RESULT, 1, null,
            List.of(Tensors.fp32(longName, new long[0], 1f))))).getMessage());

    List<Tensor> many = Collections.nCopies(65_536, Tensors.fp32("t", new long[0], 1f));
    assertEquals("65536 tensors; a frame carries at most 65535",
        assertThrows(ProtocolException.class, () -> FrameCodec.encode(new Frame(FrameType.RESULT, 1, null, many)))
            .getMessage());
  }

  @Test
  void theLargestRankNameAndCountAFrameHoldsRoundTrip() {
    Tensor deep = ofRank(255);
    Tensor named = Tensors.fp32("n".repeat(65_535), new long[0], 1f);
    List<Tensor> many = Collections.nCopies(65_535, Tensors.fp32("t", new long[0], 1f));

    assertEquals(List.of(deep, named), FrameCodec.decode(body(new Frame(FrameType.RESULT, 1, null, List.of(deep, named)))).tensors());
    assertEquals(65_535, FrameCodec.decode(body(new Frame(FrameType.RESULT, 1, null, many))).tensors().size());
  }

  /** A RESULT body with one FP32 tensor of the given shape and data length, as a lying worker could send. */
  private static byte[] resultWith(long[] shape, int dataBytes) {
    ByteBuffer body = ByteBuffer.allocate(1 + 8 + 4 + 2 + 2 + 1 + 1 + 1 + 8 * shape.length + 8 + dataBytes);
    body.put((byte) FrameType.RESULT.code()).putLong(1).putInt(0).putShort((short) 1)
        .putShort((short) 1).put((byte) 'y').put((byte) DataType.FP32.onnxType()).put((byte) shape.length);
    for (long d : shape) {
      body.putLong(d);
    }
    body.putLong(dataBytes);
    return body.array();
  }

  @Test
  void aTensorWhoseShapeDoesNotDescribeItsBytesIsRefused() {
    assertEquals("tensor 'y' FP32[2, 2] needs 16 bytes, the frame carries 8", refused(resultWith(new long[] {2, 2}, 8)));
    // 2^60 × 4 elements × 4 bytes wraps to 0 in plain arithmetic: it must not pass as an empty tensor.
    assertEquals("tensor 'y' shape [1152921504606846976, 4] has more bytes than a frame can hold",
        refused(resultWith(new long[] {1L << 60, 4}, 0)));
    assertEquals("tensor 'y' has a negative dimension: [-1, 4]", refused(resultWith(new long[] {-1, 4}, 0)));
  }
}
