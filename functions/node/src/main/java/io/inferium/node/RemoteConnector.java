package io.inferium.node;

import io.inferium.functions.protocol.Frame;
import io.inferium.functions.protocol.FrameType;
import io.inferium.functions.seal.NodeKeys;
import io.vertx.core.json.JsonObject;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;

/**
 * A remote node's way to its gateway: TLS 1.3 out to the gateway's node port, the gateway's
 * certificate either pinned by its SHA-256 fingerprint or verified by a CA (with the host name), then
 * the challenge: the gateway sends a fresh nonce and its identity, the node signs
 * {@link NodeKeys#remoteHelloMessage} over that nonce, the fingerprint of the certificate it actually
 * saw, and its own key, and presents its operator's key.
 */
final class RemoteConnector implements GatewayConnector {

  /** Time for the TLS handshake, the challenge and the welcome; after that the connection has no read timeout. */
  static final int HANDSHAKE_TIMEOUT_MS = 15_000;

  private final String host;
  private final int port;
  private final SSLContext tls;
  private final boolean verifyHostName;
  private final String operatorKey;

  /**
   * @param fingerprint the gateway certificate's SHA-256 (hex, colons allowed) to pin, or null to verify by CA
   * @param caFile      PEM certificates to trust (with {@code fingerprint} null); null for the JDK's CAs
   * @param operatorKey the operator's API key (an {@code operator} key) the node is registered under
   */
  RemoteConnector(String host, int port, String fingerprint, Path caFile, String operatorKey) throws IOException {
    this.host = host;
    this.port = port;
    this.operatorKey = operatorKey;
    this.verifyHostName = fingerprint == null;
    try {
      TrustManager[] trust;
      if (fingerprint != null) {
        trust = new TrustManager[] {new PinnedCertificate(normalize(fingerprint))};
      } else {
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(caFile == null ? null : trustStore(caFile));
        trust = tmf.getTrustManagers();
      }
      tls = SSLContext.getInstance("TLSv1.3");
      tls.init(null, trust, null);
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot set up TLS to the gateway: " + e.getMessage(), e);
    }
  }

  /** Lower-case hex without separators; refuses anything that is not 32 bytes of hex. */
  static String normalize(String fingerprint) {
    String hex = fingerprint.replace(":", "").strip().toLowerCase(java.util.Locale.ROOT);
    if (!io.inferium.functions.ModelBlobs.isSha256Hex(hex)) {
      throw new IllegalArgumentException("--gateway-fingerprint: expected the SHA-256 of the gateway's certificate "
          + "(64 hex digits, colons allowed), got '" + fingerprint + "'");
    }
    return hex;
  }

  static String fingerprint(Certificate cert) throws CertificateException {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static KeyStore trustStore(Path caFile) throws IOException, GeneralSecurityException {
    KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
    store.load(null, null);
    try (InputStream in = Files.newInputStream(caFile)) {
      int i = 0;
      for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        store.setCertificateEntry("ca-" + i++, c);
      }
      if (i == 0) {
        throw new IOException("--gateway-ca " + caFile + " holds no PEM certificate");
      }
    }
    return store;
  }

  @Override
  public boolean reconnects() {
    return true;
  }

  @Override
  public GatewayConnector.Connection connect(NodeKeys keys, JsonObject hello) throws IOException {
    SSLSocket socket = (SSLSocket) tls.getSocketFactory().createSocket();
    try {
      socket.setTcpNoDelay(true);
      socket.setKeepAlive(true);
      socket.setSoTimeout(HANDSHAKE_TIMEOUT_MS);
      socket.connect(new InetSocketAddress(host, port), HANDSHAKE_TIMEOUT_MS);
      SSLParameters params = socket.getSSLParameters();
      params.setProtocols(new String[] {"TLSv1.3"});
      if (verifyHostName) {
        params.setEndpointIdentificationAlgorithm("HTTPS");
      }
      socket.setSSLParameters(params);
      socket.startHandshake();
      String seen;
      try {
        seen = fingerprint(socket.getSession().getPeerCertificates()[0]);
      } catch (CertificateException e) {
        throw new javax.net.ssl.SSLException("unreadable gateway certificate", e);
      }
      OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 1 << 16);
      DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream(), 1 << 16));
      Frame challenge = WorkerProcess.read(in);
      if (challenge.type() == FrameType.ERROR) {
        throw new IOException("the gateway did not challenge: " + challenge.meta().getString("message"));
      }
      if (challenge.type() != FrameType.CHALLENGE) {
        throw new IOException("expected CHALLENGE from the gateway, got " + challenge.type());
      }
      String nonce = challenge.meta().getString("nonce", "");
      String claimed = challenge.meta().getString("gateway_id", "");
      if (!claimed.equals(seen)) {
        throw new GatewayConnector.Refused("the gateway says it is " + claimed + " but presented certificate " + seen);
      }
      hello.put("nonce", nonce).put("gateway_id", seen).put("operator_key", operatorKey)
          .put("signature", keys.sign(NodeKeys.remoteHelloMessage(nonce, seen, keys.publicKey(), keys.nodeId(),
              hello.getString("code_sha256"))));
      GatewayConnector.writeFrame(out, Frame.of(FrameType.HELLO, 0, hello));
      Frame welcome = WorkerProcess.read(in);
      if (welcome.type() != FrameType.WELCOME) {
        throw new GatewayConnector.Refused(welcome.meta().getString("message", String.valueOf(welcome.type())));
      }
      socket.setSoTimeout(0);
      return new GatewayConnector.Connection(socket, in, out, welcome.meta());
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
  }

  /** Trusts exactly one certificate, by the SHA-256 of its DER bytes; no CA, no host name. */
  private static final class PinnedCertificate implements X509TrustManager {
    private final byte[] pinned;

    PinnedCertificate(String hex) {
      this.pinned = HexFormat.of().parseHex(hex);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      if (chain == null || chain.length == 0) {
        throw new CertificateException("the gateway presented no certificate");
      }
      String seen = fingerprint(chain[0]);
      if (!MessageDigest.isEqual(HexFormat.of().parseHex(seen), pinned)) {
        throw new CertificateException("the gateway's certificate has SHA-256 fingerprint " + seen + ", not the pinned "
            + HexFormat.of().formatHex(pinned));
      }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
      throw new CertificateException("a node accepts no client certificates");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
