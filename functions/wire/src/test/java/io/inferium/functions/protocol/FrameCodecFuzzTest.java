package io.inferium.functions.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.tensor.DataType;
import io.inferium.functions.tensor.Tensor;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/**
 * Fuzzes the worker frame codec: random and mutated frame bodies decode to a frame or a
 * {@link ProtocolException}, never another exception; what a decoded frame holds is never more than
 * the body carried (tensor data are slices of it); valid frames survive encode → decode.
 */
class FrameCodecFuzzTest {

  @Provide
  Arbitrary<Frame> frames() {
    Arbitrary<Tensor> tensor = Combinators.combine(Arbitraries.strings().alpha().ofMaxLength(8),
        Arbitraries.of(DataType.values()), Arbitraries.integers().between(0, 4).list().ofMaxSize(3))
        .as((name, type, dims) -> {
          long[] shape = dims.stream().mapToLong(Integer::longValue).toArray();
          long count = Tensor.elementCount(shape);
          ByteBuffer data;
          if (type.isFixedWidth()) {
            data = ByteBuffer.allocate((int) count * type.byteSize());
          } else {
            data = ByteBuffer.allocate((int) count * 5).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < count; i++) {
              data.putInt(1).put((byte) 'a');
            }
            data.flip();
          }
          return new Tensor(name.isEmpty() ? "t" : name, type, shape, data);
        });
    Arbitrary<JsonObject> meta = Arbitraries.maps(Arbitraries.strings().alpha().ofMaxLength(6),
        Arbitraries.oneOf(Arbitraries.strings().ofMaxLength(10).map(s -> (Object) s), Arbitraries.longs().map(l -> (Object) l)))
        .ofMaxSize(4).map(m -> new JsonObject(new java.util.LinkedHashMap<>(m)));
    return Combinators.combine(Arbitraries.of(FrameType.values()), Arbitraries.longs(), meta, tensor.list().ofMaxSize(3))
        .as(Frame::new);
  }

  private static byte[] body(Frame f) {
    ByteBuffer encoded = FrameCodec.encode(f);
    encoded.getInt();
    byte[] out = new byte[encoded.remaining()];
    encoded.get(out);
    return out;
  }

  @Property(seed = "20261204")
  void validFramesSurviveARoundTrip(@ForAll("frames") Frame frame) {
    Frame back = FrameCodec.decode(ByteBuffer.wrap(body(frame)));
    assertEquals(frame.type(), back.type());
    assertEquals(frame.correlationId(), back.correlationId());
    assertEquals(frame.meta(), back.meta());
    assertEquals(frame.tensors().size(), back.tensors().size());
    for (int i = 0; i < frame.tensors().size(); i++) {
      Tensor a = frame.tensors().get(i);
      Tensor b = back.tensors().get(i);
      assertEquals(a.name(), b.name());
      assertEquals(a.type(), b.type());
      assertArrayEquals(a.shape(), b.shape());
      assertEquals(a.view(), b.view());
    }
  }

  @Property(seed = "20261204")
  void randomBodiesDecodeOrFailAsProtocolErrors(@ForAll @Size(max = 300) byte[] body) {
    decodeOrRefuse(body);
  }

  @Property(seed = "20261204")
  void mutatedFramesDecodeOrFailAsProtocolErrors(@ForAll("frames") Frame frame,
      @ForAll @Size(min = 1, max = 6) List<@net.jqwik.api.constraints.IntRange(min = 0, max = 1 << 20) Integer> edits) {
    byte[] body = body(frame);
    for (int e : edits) {
      int pos = body.length == 0 ? 0 : (e >>> 3) % body.length;
      switch (e & 7) {
        case 0, 1, 2 -> {
          if (body.length > 0) {
            body[pos] = (byte) (e >>> 11);
          }
        }
        case 3 -> body = Arrays.copyOf(body, pos);
        case 4 -> { // a length field claiming almost everything
          for (int i = 0; i < 4 && pos + i < body.length; i++) {
            body[pos + i] = (byte) (i == 0 ? 0x7f : 0xff);
          }
        }
        case 5 -> { // a negative length
          for (int i = 0; i < 8 && pos + i < body.length; i++) {
            body[pos + i] = (byte) 0xff;
          }
        }
        default -> {
          byte[] longer = Arrays.copyOf(body, body.length + 1 + (e & 0xf));
          body = longer;
        }
      }
    }
    decodeOrRefuse(body);
  }

  private static void decodeOrRefuse(byte[] body) {
    Frame f;
    try {
      f = FrameCodec.decode(ByteBuffer.wrap(body));
    } catch (ProtocolException expected) {
      return;
    }
    long carried = 0;
    for (Tensor t : f.tensors()) {
      carried += t.byteSize();
    }
    assertTrue(carried <= body.length, carried + " bytes of tensors from a body of " + body.length);
  }
}
