package io.inferium.node;

import io.inferium.functions.seal.NodeKeys;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A remote node's links to its gateways ({@code inferium node --gateway A,B,...}): one process, one key (one
 * node id for every gateway), one model cache on disk, and one link per gateway, each with its own connection,
 * handshake, reconnect backoff, heartbeats, seals and loaded sessions, so a gateway that dies or refuses the
 * node leaves the other links alone. The node's credits are split between the links once, at start
 * ({@link #shares}): the sum of what the links advertise never exceeds the node's credits, whatever each
 * gateway does, and a link whose gateway is down keeps its share unused. SIGTERM drains every link.
 */
final class NodeLinks {

  private static final Logger log = LoggerFactory.getLogger(NodeLinks.class);

  /** One gateway: where it is (in {@code options}) and how to reach it. */
  record Link(WorkerOptions options, GatewayConnector connector) {}

  private NodeLinks() {}

  /**
   * The node's {@code credits} split over {@code links} links in order: each gets {@code credits / links}, the
   * first {@code credits % links} one more. Fewer credits than links leaves the last links with 0 (no work).
   */
  static int[] shares(int credits, int links) {
    int[] s = new int[links];
    int total = Math.max(0, credits);
    for (int i = 0; i < links; i++) {
      s[i] = total / links + (i < total % links ? 1 : 0);
    }
    return s;
  }

  /**
   * Serves every link until each has ended (a drain, a refusal, an untrusted certificate); returns the worst
   * exit code of the links (0 when all drained), 1 when the key or the cache cannot be used.
   */
  static int run(List<Link> links, Path blobDir, long cacheBytes, int credits, long drainTimeoutMs) {
    NodeKeys keys;
    BlobCache blobs;
    Path bundleRoot;
    try {
      Path keyFile = links.get(0).options().keyFile();
      keys = keyFile == null ? NodeKeys.generate() : NodeKeys.loadOrCreate(keyFile);
      blobs = new BlobCache(blobDir, cacheBytes, (sha, offset, length) -> {
        throw new IOException("no gateway link named to fetch " + sha);
      });
      bundleRoot = blobs.bundleRoot();
    } catch (IOException | RuntimeException e) {
      log.error("cannot use the node's key or model cache {}: {}", blobDir, e.getMessage());
      return 1;
    }
    int[] share = shares(credits, links.size());
    List<WorkerProcess> processes = new ArrayList<>();
    for (int i = 0; i < links.size(); i++) {
      processes.add(WorkerProcess.remoteLink(links.get(i).options(), keys, blobs, bundleRoot, share[i], drainTimeoutMs));
      if (links.size() > 1) {
        log.info("link {} to gateway {}:{}: {} of the node's {} credits", i + 1, links.get(i).options().gatewayHost(),
            links.get(i).options().gatewayPort(), share[i], credits);
      }
    }
    try {
      // SIGTERM (a service manager stopping it, `inferium node --drain`) drains every link: the node finishes
      // its calls on each and exits 0 once all have let it go.
      sun.misc.Signal.handle(new sun.misc.Signal("TERM"), sig -> processes.forEach(p -> p.drain("SIGTERM")));
    } catch (IllegalArgumentException | UnsupportedOperationException e) {
      log.warn("cannot drain on SIGTERM here ({}); a SIGTERM ends the node at once", e.getMessage());
    }
    if (processes.size() == 1) {
      return processes.get(0).serveLink(links.get(0).connector());
    }
    ExecutorService threads = Executors.newFixedThreadPool(processes.size(), r -> new Thread(r, "inferium-link"));
    try {
      List<Future<Integer>> ends = new ArrayList<>();
      for (int i = 0; i < processes.size(); i++) {
        WorkerProcess p = processes.get(i);
        Link link = links.get(i);
        ends.add(threads.submit(() -> {
          int code = p.serveLink(link.connector());
          if (code != 0) {
            log.error("link to gateway {}:{} ended ({}); the node's other links go on", link.options().gatewayHost(),
                link.options().gatewayPort(), code);
          }
          return code;
        }));
      }
      int worst = 0;
      for (Future<Integer> end : ends) {
        try {
          worst = Math.max(worst, end.get());
        } catch (ExecutionException e) {
          worst = Math.max(worst, 1);
        }
      }
      return worst;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return 1;
    } finally {
      threads.shutdownNow();
    }
  }
}
