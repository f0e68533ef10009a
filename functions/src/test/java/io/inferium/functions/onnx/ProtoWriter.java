package io.inferium.functions.onnx;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.WireFormat;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * Writes protobuf messages field by field, so tests can build the odd files real exporters never
 * write: unknown fields, groups, deep nesting, fields repeated where one is expected.
 */
final class ProtoWriter {

  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  private final CodedOutputStream out = CodedOutputStream.newInstance(bytes);

  static ProtoWriter message() {
    return new ProtoWriter();
  }

  ProtoWriter varint(int field, long value) {
    return write(() -> out.writeInt64(field, value));
  }

  ProtoWriter string(int field, String value) {
    return write(() -> out.writeString(field, value));
  }

  ProtoWriter bytes(int field, byte[] value) {
    return write(() -> out.writeByteArray(field, value));
  }

  ProtoWriter message(int field, ProtoWriter value) {
    return bytes(field, value.toBytes());
  }

  /** A start-group/end-group pair around nothing: valid protobuf, never used by ONNX. */
  ProtoWriter emptyGroup(int field) {
    return write(() -> {
      out.writeTag(field, WireFormat.WIRETYPE_START_GROUP);
      out.writeTag(field, WireFormat.WIRETYPE_END_GROUP);
    });
  }

  /** Appends bytes as they are, well-formed or not. */
  ProtoWriter raw(byte[] value) {
    return write(() -> out.writeRawBytes(value));
  }

  byte[] toBytes() {
    write(out::flush);
    return bytes.toByteArray();
  }

  private interface Write {
    void run() throws IOException;
  }

  private ProtoWriter write(Write write) {
    try {
      write.run();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }
}
