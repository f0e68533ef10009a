package io.inferium.functions.onnx;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import java.io.IOException;

/** The few protobuf wire-format moves the reader needs on top of {@link CodedInputStream}. */
final class Wire {

  static final int VARINT = WireFormat.WIRETYPE_VARINT;
  static final int LEN = WireFormat.WIRETYPE_LENGTH_DELIMITED;

  private Wire() {}

  /**
   * Enters the length-delimited embedded message whose tag has just been read: the input is then
   * limited to that message. Returns the outer limit, to hand to {@link CodedInputStream#popLimit}
   * once the message's fields are read.
   */
  static int enter(CodedInputStream in) throws IOException {
    return in.pushLimit(in.readRawVarint32());
  }

  /**
   * Skips a field the reader has no use for, as protobuf parsers do with unknown fields. Groups are
   * refused: ONNX never uses them, and skipping them would recurse once per nesting level.
   */
  static void skip(CodedInputStream in, int tag) throws IOException, InvalidModelException {
    int wireType = WireFormat.getTagWireType(tag);
    if (wireType == WireFormat.WIRETYPE_START_GROUP || wireType == WireFormat.WIRETYPE_END_GROUP) {
      throw new InvalidModelException("not an ONNX model: unexpected protobuf group (field "
          + WireFormat.getTagFieldNumber(tag) + ") at byte " + in.getTotalBytesRead());
    }
    in.skipField(tag);
  }
}
