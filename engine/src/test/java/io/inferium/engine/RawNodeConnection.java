package io.inferium.engine;

import io.inferium.functions.protocol.Frame;
import io.inferium.functions.protocol.FrameCodec;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * The attacker's side of a gateway's node port: a TLS connection that trusts any certificate (an attacker needs no
 * pin) and reads and writes raw protocol frames. The node-port tests play their attacks with it.
 */
class RawNodeConnection implements AutoCloseable {

  final SSLSocket socket;
  final DataInputStream in;
  final OutputStream out;

  RawNodeConnection(int port) throws Exception {
    SSLContext ctx = SSLContext.getInstance("TLSv1.3");
    ctx.init(null, new TrustManager[] {new X509TrustManager() {
      @Override public void checkClientTrusted(X509Certificate[] c, String a) { }
      @Override public void checkServerTrusted(X509Certificate[] c, String a) { }
      @Override public X509Certificate[] getAcceptedIssuers() {
        return new X509Certificate[0];
      }
    }}, null);
    socket = (SSLSocket) ctx.getSocketFactory().createSocket("127.0.0.1", port);
    socket.setSoTimeout(15_000);
    socket.startHandshake();
    in = new DataInputStream(socket.getInputStream());
    out = socket.getOutputStream();
  }

  Frame read() throws IOException {
    byte[] body = new byte[in.readInt()];
    in.readFully(body);
    return FrameCodec.decode(ByteBuffer.wrap(body));
  }

  void send(Frame f) throws IOException {
    ByteBuffer b = FrameCodec.encode(f);
    out.write(b.array(), b.arrayOffset() + b.position(), b.remaining());
    out.flush();
  }

  /** Reads until the gateway closes: true if it did (EOF or reset) within the socket timeout. */
  boolean closedByGateway() {
    try {
      while (true) {
        read();
      }
    } catch (EOFException | SocketException e) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
