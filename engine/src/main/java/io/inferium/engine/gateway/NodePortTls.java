package io.inferium.engine.gateway;

import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PfxOptions;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The node port's TLS identity: the certificate given ({@code --node-tls-cert/--node-tls-key}), or a
 * self-signed one made at first start into {@code <data-dir>/node-tls} (EC P-256, ten years, by the
 * JDK's own {@code keytool}: the JDK has no public API to sign a certificate, and this keeps a second
 * crypto library out of the gateway). Its SHA-256 fingerprint is what nodes pin, and is also the
 * gateway's identity in the challenge they sign.
 *
 * @param keyCert     what the TLS server presents
 * @param fingerprint SHA-256 of the certificate's DER bytes, lower-case hex
 * @param source      where it came from, for the log
 */
record NodePortTls(KeyCertOptions keyCert, String fingerprint, String source) {

  static final String DIR = "node-tls";
  private static final String STORE = "gateway.p12";
  private static final String PASSWORD = "password";
  private static final String FINGERPRINT = "fingerprint";

  /** Loads or creates the certificate. Blocking (file reads, possibly a {@code keytool} run). */
  static NodePortTls resolve(NodePortSettings settings, Path dataDir) throws IOException {
    try {
      if (settings.certFile() != null) {
        Certificate cert;
        try (InputStream in = Files.newInputStream(settings.certFile())) {
          cert = CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        return new NodePortTls(new PemKeyCertOptions().setCertPath(settings.certFile().toString())
            .setKeyPath(settings.keyFile().toString()), fingerprint(cert), settings.certFile().toString());
      }
      Path dir = dataDir.resolve(DIR);
      Path store = dir.resolve(STORE);
      Path passwordFile = dir.resolve(PASSWORD);
      if (!Files.exists(store)) {
        generate(dir, store, passwordFile);
      }
      String password = Files.readString(passwordFile, StandardCharsets.US_ASCII).strip();
      KeyStore ks = KeyStore.getInstance("PKCS12");
      try (InputStream in = Files.newInputStream(store)) {
        ks.load(in, password.toCharArray());
      }
      String fp = fingerprint(ks.getCertificate(ks.aliases().nextElement()));
      Files.writeString(dir.resolve(FINGERPRINT), fp + "\n", StandardCharsets.US_ASCII);
      return new NodePortTls(new PfxOptions().setPath(store.toString()).setPassword(password), fp,
          "self-signed, " + store);
    } catch (GeneralSecurityException e) {
      throw new IOException("node port certificate unusable: " + e.getMessage(), e);
    }
  }

  static String fingerprint(Certificate cert) throws GeneralSecurityException {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
  }

  private static void generate(Path dir, Path store, Path passwordFile) throws IOException {
    Files.createDirectories(dir);
    byte[] secret = new byte[24];
    new SecureRandom().nextBytes(secret);
    String password = HexFormat.of().formatHex(secret);
    Files.deleteIfExists(passwordFile);
    Files.createFile(passwordFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(passwordFile, password + "\n", StandardCharsets.US_ASCII);
    Path tmp = dir.resolve(STORE + ".tmp");
    Files.deleteIfExists(tmp);
    String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
    ProcessBuilder p = new ProcessBuilder(List.of(keytool, "-genkeypair", "-alias", "gateway", "-keyalg", "EC", "-groupname",
        "secp256r1", "-sigalg", "SHA256withECDSA", "-validity", "3650", "-dname", "CN=inferium-gateway",
        "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-keystore", tmp.toString(), "-storetype", "PKCS12",
        "-storepass:env", "INFERIUM_NODE_TLS_PASSWORD", "-keypass:env", "INFERIUM_NODE_TLS_PASSWORD", "-noprompt"))
        .redirectErrorStream(true);
    p.environment().put("INFERIUM_NODE_TLS_PASSWORD", password);
    Process run = p.start();
    String output = new String(run.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (!run.waitFor(60, TimeUnit.SECONDS) || run.exitValue() != 0) {
        run.destroyForcibly();
        throw new IOException("keytool could not make the node port certificate: " + output.strip());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while making the node port certificate", e);
    }
    Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
    Files.move(tmp, store, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }
}
