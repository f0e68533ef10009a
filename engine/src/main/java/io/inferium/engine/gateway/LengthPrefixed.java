package io.inferium.engine.gateway;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.parsetools.RecordParser;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import java.util.function.IntSupplier;

/**
 * Splits a byte stream into the protocol's length-prefixed frame bodies, refusing a frame whose length
 * prefix is over the limit of the moment before any of it is buffered (the limit is small until a peer
 * has authenticated). After a refusal nothing more is delivered.
 */
final class LengthPrefixed {

  private final IntSupplier maxBytes;
  private final IntConsumer onTooLong;
  private final RecordParser parser = RecordParser.newFixed(4);
  private boolean readingLength = true;
  private boolean refused;

  /**
   * @param maxBytes  the largest body accepted now
   * @param onTooLong told the refused length (the caller closes the connection)
   * @param onFrame   each frame body (without its length prefix)
   */
  LengthPrefixed(IntSupplier maxBytes, IntConsumer onTooLong, Consumer<Buffer> onFrame) {
    this.maxBytes = maxBytes;
    this.onTooLong = onTooLong;
    parser.handler(buf -> {
      if (refused) {
        return;
      }
      if (readingLength) {
        int length = buf.getInt(0);
        if (length <= 0 || length > this.maxBytes.getAsInt()) {
          refused = true;
          this.onTooLong.accept(length);
          return;
        }
        readingLength = false;
        parser.fixedSizeMode(length);
        return;
      }
      readingLength = true;
      parser.fixedSizeMode(4);
      onFrame.accept(buf);
    });
  }

  void feed(Buffer data) {
    if (!refused) {
      parser.handle(data);
    }
  }
}
