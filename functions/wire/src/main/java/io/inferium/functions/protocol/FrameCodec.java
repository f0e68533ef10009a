package io.inferium.functions.protocol;

import io.inferium.functions.tensor.DataType;
import io.inferium.functions.tensor.Tensor;
import io.vertx.core.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Binary frame layout, big-endian header fields, little-endian tensor data:
 *
 * <pre>
 * u32 length of everything after this field
 * u8  type          u64 correlation id
 * u32 meta length   meta (UTF-8 JSON)
 * u16 tensor count, then per tensor:
 *   u16 name length, name (UTF-8)   u8 ONNX element type   u8 rank   rank × i64 dims
 *   u64 data length, data
 * </pre>
 *
 * Used by the gateway (over Vert.x buffers) and by the worker (over plain streams).
 */
public final class FrameCodec {

  /** Frames larger than this are refused before any allocation: the ceiling of the format itself. */
  public static final int MAX_FRAME_BYTES = Integer.MAX_VALUE - 64;
  /** The largest frame a connection may send before its hello is accepted (a hello is about 1 KiB). */
  public static final int MAX_HELLO_FRAME_BYTES = 64 << 10;
  /** 2: TOKENS frames carry their tokens as tensors ({@link TokensFrame}), no longer as JSON. */
  public static final int PROTOCOL_VERSION = 2;
  private static final int MAX_U16 = 0xffff;
  private static final int MAX_RANK = 0xff;

  private FrameCodec() {}

  /** Encodes a frame including its 4-byte length prefix. */
  public static ByteBuffer encode(Frame frame) {
    byte[] meta = frame.meta().encode().getBytes(StandardCharsets.UTF_8);
    long size = 1 + 8 + 4 + meta.length + 2;
    if (frame.tensors().size() > MAX_U16) {
      throw new ProtocolException(frame.tensors().size() + " tensors; a frame carries at most " + MAX_U16);
    }
    List<byte[]> names = new ArrayList<>(frame.tensors().size());
    for (Tensor t : frame.tensors()) {
      byte[] name = t.name().getBytes(StandardCharsets.UTF_8);
      if (name.length > MAX_U16) {
        throw new ProtocolException("tensor name of " + name.length + " bytes; a frame carries at most " + MAX_U16);
      }
      if (t.shape().length > MAX_RANK) {
        throw new ProtocolException("tensor '" + t.name() + "' has rank " + t.shape().length
            + "; a frame carries at most " + MAX_RANK + " dimensions");
      }
      names.add(name);
      size += 2 + name.length + 1 + 1 + 8L * t.shape().length + 8 + t.byteSize();
    }
    if (size > MAX_FRAME_BYTES) {
      throw new ProtocolException("frame of " + size + " bytes exceeds the " + MAX_FRAME_BYTES + "-byte limit");
    }
    ByteBuffer out = ByteBuffer.allocate((int) size + 4).order(ByteOrder.BIG_ENDIAN);
    out.putInt((int) size);
    out.put((byte) frame.type().code());
    out.putLong(frame.correlationId());
    out.putInt(meta.length).put(meta);
    out.putShort((short) frame.tensors().size());
    for (int i = 0; i < frame.tensors().size(); i++) {
      Tensor t = frame.tensors().get(i);
      byte[] name = names.get(i);
      out.putShort((short) name.length).put(name);
      out.put((byte) t.type().onnxType());
      out.put((byte) t.shape().length);
      for (long d : t.shape()) {
        out.putLong(d);
      }
      out.putLong(t.byteSize());
      out.put(t.view());
    }
    return out.flip();
  }

  /**
   * Decodes a frame body (everything after the length prefix). Tensor data are slices of
   * {@code body}, not copies.
   */
  public static Frame decode(ByteBuffer body) {
    try {
      ByteBuffer in = body.duplicate().order(ByteOrder.BIG_ENDIAN);
      FrameType type = FrameType.of(in.get() & 0xff);
      long correlationId = in.getLong();
      int metaLength = in.getInt();
      if (metaLength < 0 || metaLength > in.remaining()) {
        throw new ProtocolException("meta length " + metaLength + " exceeds the frame");
      }
      byte[] metaBytes = new byte[metaLength];
      in.get(metaBytes);
      JsonObject meta = metaLength == 0 ? new JsonObject() : new JsonObject(new String(metaBytes, StandardCharsets.UTF_8));
      int count = in.getShort() & 0xffff;
      List<Tensor> tensors = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        byte[] name = new byte[in.getShort() & 0xffff];
        in.get(name);
        int onnxType = in.get() & 0xff;
        DataType dtype = DataType.fromOnnx(onnxType)
            .orElseThrow(() -> new ProtocolException("unknown tensor element type " + onnxType));
        int rank = in.get() & 0xff;
        long[] shape = new long[rank];
        for (int d = 0; d < rank; d++) {
          shape[d] = in.getLong();
        }
        long length = in.getLong();
        if (length < 0 || length > in.remaining()) {
          throw new ProtocolException("tensor data length " + length + " exceeds the frame");
        }
        checkSize(new String(name, StandardCharsets.UTF_8), dtype, shape, length);
        ByteBuffer data = in.slice(in.position(), (int) length).order(ByteOrder.LITTLE_ENDIAN);
        in.position(in.position() + (int) length);
        tensors.add(new Tensor(new String(name, StandardCharsets.UTF_8), dtype, shape, data));
      }
      if (in.hasRemaining()) {
        throw new ProtocolException(in.remaining() + " trailing bytes after the last tensor");
      }
      return new Frame(type, correlationId, meta, tensors);
    } catch (java.nio.BufferUnderflowException e) {
      throw new ProtocolException("truncated frame");
    } catch (io.vertx.core.json.DecodeException e) {
      throw new ProtocolException("frame meta is not JSON: " + e.getMessage());
    }
  }

  /**
   * A tensor's shape must describe its bytes: fixed-width types exactly (element count × element size,
   * computed without overflow), BYTES at least a 4-byte length per element. The far end may be a
   * compromised worker, so a shape that would make later size arithmetic wrap is refused here.
   */
  private static void checkSize(String name, DataType dtype, long[] shape, long length) {
    long needed;
    try {
      long count = 1;
      for (long d : shape) {
        if (d < 0) {
          throw new ProtocolException("tensor '" + name + "' has a negative dimension: " + java.util.Arrays.toString(shape));
        }
        count = Math.multiplyExact(count, d);
      }
      needed = Math.multiplyExact(count, dtype.isFixedWidth() ? dtype.byteSize() : Integer.BYTES);
    } catch (ArithmeticException overflow) {
      throw new ProtocolException("tensor '" + name + "' shape " + java.util.Arrays.toString(shape)
          + " has more bytes than a frame can hold");
    }
    if (dtype.isFixedWidth() ? needed != length : needed > length) {
      throw new ProtocolException("tensor '" + name + "' " + dtype + java.util.Arrays.toString(shape) + " needs "
          + (dtype.isFixedWidth() ? "" : "at least ") + needed + " bytes, the frame carries " + length);
    }
  }
}
