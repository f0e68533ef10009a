package io.inferium.node;

import io.inferium.functions.protocol.Frame;
import io.inferium.functions.protocol.FrameCodec;
import io.inferium.functions.protocol.FrameType;
import io.inferium.functions.seal.NodeKeys;
import io.vertx.core.json.JsonObject;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;

/**
 * How a node process reaches a gateway: a spawned worker over loopback with its one-time token
 * ({@link Local}), a remote node over TLS answering a challenge ({@link RemoteConnector}).
 */
interface GatewayConnector {

  /** Whether to connect again after a connection ends (remote nodes do; a spawned worker exits). */
  boolean reconnects();

  /** Opens a connection, says hello (adding what this path needs to {@code hello}) and returns it after WELCOME. */
  Connection connect(NodeKeys keys, JsonObject hello) throws IOException;

  /** One accepted connection to a gateway. */
  record Connection(java.io.Closeable socket, DataInputStream in, OutputStream out, JsonObject welcome) {}

  /** The gateway refused this node (bad key, operator, code): trying again would fail the same way. */
  final class Refused extends IOException {
    Refused(String message) {
      super(message);
    }
  }

  static void writeFrame(OutputStream out, Frame frame) throws IOException {
    ByteBuffer bytes = FrameCodec.encode(frame);
    out.write(bytes.array(), bytes.arrayOffset() + bytes.position(), bytes.remaining());
    out.flush();
  }

  /** The spawned worker's path: loopback, the one-time token from the environment, signed into the hello. */
  final class Local implements GatewayConnector {
    private final WorkerOptions options;

    Local(WorkerOptions options) {
      this.options = options;
    }

    @Override
    public boolean reconnects() {
      return false;
    }

    @Override
    public Connection connect(NodeKeys keys, JsonObject hello) throws IOException {
      hello.put("token", options.token()).put("signature", keys.sign(NodeKeys.helloMessage(keys.nodeId(),
          ProcessHandle.current().pid(), hello.getString("code_sha256"), options.token())));
      // Encoded before connecting (the first JSON encoding loads Jackson, seconds on a loaded machine): the
      // gateway gives a connection only a few seconds to say hello.
      ByteBuffer helloBytes = FrameCodec.encode(Frame.of(FrameType.HELLO, 0, hello));
      Socket socket = new Socket();
      try {
        socket.setTcpNoDelay(true);
        socket.connect(new InetSocketAddress(options.gatewayHost(), options.gatewayPort()), 10_000);
        OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 1 << 16);
        DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 1 << 16));
        out.write(helloBytes.array(), helloBytes.arrayOffset() + helloBytes.position(), helloBytes.remaining());
        out.flush();
        Frame welcome = WorkerProcess.read(in);
        if (welcome.type() != FrameType.WELCOME) {
          throw new Refused(welcome.meta().getString("message"));
        }
        return new Connection(socket, in, out, welcome.meta());
      } catch (IOException | RuntimeException e) {
        socket.close();
        throw e;
      }
    }
  }
}
