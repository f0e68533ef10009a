package io.inferium.engine.gateway;

import io.inferium.functions.protocol.FrameCodec;
import java.nio.file.Path;

/**
 * The gateway's remote node port ({@code --node-port}; off unless set): where it listens, its TLS
 * certificate, the bounds on connections that have not yet proven a node key, and the stake a remote
 * node needs before it is eligible for work.
 *
 * @param host             address to bind ({@value #DEFAULT_HOST}: nodes come from other machines)
 * @param port             TCP port; 0 picks a free one (tests)
 * @param certFile         PEM certificate (chain) to present, with {@code keyFile}; null for a self-signed
 *                         certificate generated at first start into {@code <data-dir>/node-tls}
 * @param keyFile          PEM private key of {@code certFile}
 * @param limits           pre-authentication bounds (hello bytes and time, unauthenticated connections) and the
 *                         largest frame of an authenticated node
 * @param minStakeMicroUsd stake a remote node needs to be eligible for work; it registers with none
 */
public record NodePortSettings(String host, int port, Path certFile, Path keyFile, WorkerPortLimits limits,
    long minStakeMicroUsd) {

  public static final String DEFAULT_HOST = "0.0.0.0";
  /** The TLS handshake, the challenge and the hello cross a real network: more time than a loopback hello. */
  public static final long DEFAULT_HELLO_TIMEOUT_MS = 10_000;
  /** What a local worker is granted on its first attach: a remote node must put up at least as much itself. */
  public static final long DEFAULT_MIN_STAKE_MICRO_USD = 1_000_000;

  public NodePortSettings {
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("--node-port: expected 0..65535, got " + port);
    }
    if ((certFile == null) != (keyFile == null)) {
      throw new IllegalArgumentException("--node-tls-cert and --node-tls-key go together");
    }
    if (minStakeMicroUsd < 0) {
      throw new IllegalArgumentException("minimum node stake must not be negative, got " + minStakeMicroUsd);
    }
  }

  /** A node port on {@code port} with a self-signed certificate and the default bounds. */
  public static NodePortSettings on(int port) {
    return new NodePortSettings(DEFAULT_HOST, port, null, null, new WorkerPortLimits(FrameCodec.MAX_HELLO_FRAME_BYTES,
        DEFAULT_HELLO_TIMEOUT_MS, WorkerPortLimits.DEFAULT_MAX_UNATTESTED, WorkerPortLimits.DEFAULT_MAX_FRAME_BYTES),
        DEFAULT_MIN_STAKE_MICRO_USD);
  }

  public NodePortSettings withHost(String h) {
    return new NodePortSettings(h, port, certFile, keyFile, limits, minStakeMicroUsd);
  }

  public NodePortSettings withCertificate(Path cert, Path key) {
    return new NodePortSettings(host, port, cert, key, limits, minStakeMicroUsd);
  }

  public NodePortSettings withLimits(WorkerPortLimits l) {
    return new NodePortSettings(host, port, certFile, keyFile, l, minStakeMicroUsd);
  }

  public NodePortSettings withMinStake(long microUsd) {
    return new NodePortSettings(host, port, certFile, keyFile, limits, microUsd);
  }
}
