package io.inferium.engine;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Network namespaces for node processes in tests: each slot is its own namespace ({@code ip netns add}) joined to
 * the host by a veth pair on a /30 of its own, so a process started in it reaches the host (a gateway listening on
 * 0.0.0.0) only by the host side's address and sees nothing on the host's loopback. Names and addresses carry a
 * random tag so concurrent tests do not collide. Where namespaces cannot be made (not root, no {@code ip}), every
 * slot falls back to the host's loopback and the reason is logged. {@link #close} deletes every namespace and link
 * it made, even after a failure half-way.
 */
final class NetNamespaces implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(NetNamespaces.class);

  /** Where a slot's processes run and the address by which they reach the host. */
  record Slot(String namespace, String hostAddress) {
    /** {@code cmd} run inside the slot's namespace ({@code ip netns exec}), or as is on loopback. */
    List<String> wrap(List<String> cmd) {
      if (namespace == null) {
        return cmd;
      }
      List<String> wrapped = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
      wrapped.addAll(cmd);
      return wrapped;
    }
  }

  private final List<Slot> slots = new ArrayList<>();
  private final List<String> namespaces = new ArrayList<>();
  private final List<String> links = new ArrayList<>();
  private final String fallbackReason;

  private NetNamespaces(int n) {
    String reason = null;
    String tag = HexFormat.of().toHexDigits((short) ThreadLocalRandom.current().nextInt(1 << 16));
    int second = 100 + ThreadLocalRandom.current().nextInt(100);
    int third = ThreadLocalRandom.current().nextInt(256);
    try {
      for (int i = 0; i < n; i++) {
        String ns = "inferium-" + tag + "-" + i;
        String host = "inf" + tag + "h" + i;
        String peer = "inf" + tag + "n" + i;
        String hostIp = "10." + second + "." + third + "." + (4 * i + 1);
        String peerIp = "10." + second + "." + third + "." + (4 * i + 2);
        ip("netns", "add", ns);
        namespaces.add(ns);
        ip("link", "add", host, "type", "veth", "peer", "name", peer);
        links.add(host);
        ip("link", "set", peer, "netns", ns);
        ip("addr", "add", hostIp + "/30", "dev", host);
        ip("link", "set", host, "up");
        ip("netns", "exec", ns, "ip", "addr", "add", peerIp + "/30", "dev", peer);
        ip("netns", "exec", ns, "ip", "link", "set", peer, "up");
        ip("netns", "exec", ns, "ip", "link", "set", "lo", "up");
        slots.add(new Slot(ns, hostIp));
      }
    } catch (IOException | RuntimeException e) {
      reason = e.getMessage();
      deleteAll();
      slots.clear();
      for (int i = 0; i < n; i++) {
        slots.add(new Slot(null, "127.0.0.1"));
      }
      log.warn("network namespaces unavailable ({}): the nodes run on the host's loopback instead", reason);
    }
    this.fallbackReason = reason;
  }

  /** {@code n} slots, in namespaces where possible, else on loopback (see {@link #fallbackReason}). */
  static NetNamespaces create(int n) {
    return new NetNamespaces(n);
  }

  Slot slot(int i) {
    return slots.get(i);
  }

  /** Why the slots run on loopback, or null when they are namespaces. */
  String fallbackReason() {
    return fallbackReason;
  }

  private static void ip(String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of("ip"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    try {
      if (!p.waitFor(20, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException(String.join(" ", cmd) + " did not finish");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted: " + String.join(" ", cmd), e);
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    if (p.exitValue() != 0) {
      throw new IOException(String.join(" ", cmd) + " failed (" + p.exitValue() + "): " + out);
    }
  }

  private void deleteAll() {
    for (String ns : namespaces) {
      // Whatever still runs in it goes first (a namespace with processes outlives its name).
      try {
        Process pids = new ProcessBuilder("ip", "netns", "pids", ns).redirectErrorStream(true).start();
        String text = new String(pids.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        pids.waitFor(20, TimeUnit.SECONDS);
        for (String pid : text.split("\\s+")) {
          if (pid.matches("\\d+")) {
            ProcessHandle.of(Long.parseLong(pid)).ifPresent(ProcessHandle::destroyForcibly);
          }
        }
      } catch (IOException e) {
        log.warn("cannot list the processes of {}: {}", ns, e.getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      try {
        ip("netns", "del", ns); // takes its end of the veth pair, and so the pair, with it
      } catch (IOException e) {
        log.warn("cannot delete namespace {}: {}", ns, e.getMessage());
      }
    }
    for (String link : links) {
      try {
        ip("link", "del", link);
      } catch (IOException gone) {
        // deleted with its peer's namespace
      }
    }
    namespaces.clear();
    links.clear();
  }

  @Override
  public void close() {
    deleteAll();
  }
}
