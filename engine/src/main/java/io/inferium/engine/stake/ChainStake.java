package io.inferium.engine.stake;

import io.inferium.chain.ChainRpc;
import io.inferium.chain.Deployment;
import io.inferium.chain.KeyFile;
import io.inferium.chain.NodeStake;
import io.inferium.chain.Receipt;
import io.inferium.functions.seal.NodeKeys;
import io.inferium.engine.gateway.RemoteNodes;
import io.inferium.engine.receipts.EpochPolicy;
import io.inferium.engine.receipts.ReceiptSettings;
import io.inferium.verifier.NodeLedger;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Hash;
import org.web3j.protocol.Web3j;

/**
 * On-chain stake is the truth when a chain is configured (issue 13, item 3), for remote nodes (the operators'
 * machines; a gateway's own local workers are not staked).
 *
 * <ul>
 *   <li><b>Gate.</b> Every {@code refreshMs} the registry is read ({@code NodeRegistry.nodeOf}, {@code isActive}) for
 *       each remote node this gateway knows, by the 32-byte Ed25519 key its hello proved, on a reading thread of its
 *       own (never behind a transaction waiting for confirmations). {@link RemoteNodes#eligibleLinks} then admits a
 *       node only while the registry shows it registered, staked at or above the minimum and not ejected; a node not
 *       read yet, or a registry that cannot be read, keeps it off work (fail closed).
 *   <li><b>Slashes.</b> A slash the verifier decided and stored ({@link NodeLedger#onSlash}) for a node registered on
 *       chain goes into a durable outbox ({@code chain_slashes}, V31) and is sent to {@code NodeRegistry.slash(key,
 *       amount, evidenceHash, eject)} on the chain thread, oldest first, retried with backoff. The evidence hash is
 *       keccak256 of the evidence as canonical JSON (with the node id), so a retry first looks for the slash in the
 *       registry's events and never slashes twice. The ledger's micro-dollars become token units at 10^12 per
 *       micro-dollar (1 INF per USD, as settlement).
 * </ul>
 */
public final class ChainStake {

  private static final Logger log = LoggerFactory.getLogger(ChainStake.class);
  private static final BigInteger UNITS_PER_MICRO_USD = BigInteger.TEN.pow(12);

  /** A node's registry entry as last read. */
  record Seen(NodeStake.Status status, String error, Instant at) {
  }

  private final Vertx vertx;
  private final Pool pool;
  private final ReceiptSettings.Chain chain;
  private final RemoteNodes remote;
  private final long refreshMs;
  private final Map<String, Seen> seen = new ConcurrentHashMap<>();
  private final Counter sent;
  private final Counter failures;

  private Deployment deployment;
  private Credentials key;
  private WorkerExecutor readThread;
  private WorkerExecutor chainThread;
  private volatile NodeStake reader;
  private NodeStake writer;
  private Web3j readClient;
  private Web3j writeClient;
  private long timer = -1;
  private long retryTimer = -1;
  private boolean refreshing;
  private boolean sending;
  private boolean stopped;
  private int failuresInARow;

  public ChainStake(Vertx vertx, Pool pool, MeterRegistry registry, ReceiptSettings.Chain chain, RemoteNodes remote,
      long refreshMs) {
    this.vertx = vertx;
    this.pool = pool;
    this.chain = chain;
    this.remote = remote;
    this.refreshMs = refreshMs;
    this.sent = registry.counter("inferium.chain.slashes.sent");
    this.failures = registry.counter("inferium.chain.slashes.failures");
  }

  public Future<Void> start(NodeLedger ledger) {
    return vertx.executeBlocking(() -> {
      deployment = Deployment.read(chain.deploymentFile());
      key = KeyFile.read(chain.keyFile());
      return null;
    }, false).onSuccess(v -> {
      readThread = vertx.createSharedWorkerExecutor("inferium-chain-read", 1, 60, TimeUnit.SECONDS);
      chainThread = vertx.createSharedWorkerExecutor("inferium-chain", 1, chain.confirmationLimitMs() + 120_000,
          TimeUnit.MILLISECONDS);
      remote.chainGate(this::ineligibility, this::describe);
      ledger.onSlash(d -> vertx.runOnContext(x -> slashed(d)));
      timer = vertx.setPeriodic(refreshMs, id -> refresh());
      log.info("Stake: remote nodes work only while NodeRegistry {} shows them active (read every {} ms); slashes "
          + "sent there as {}", deployment.registry(), refreshMs, key.getAddress());
      refresh();
      sendNext();
    }).mapEmpty();
  }

  public Future<Void> stop() {
    stopped = true;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    if (retryTimer >= 0) {
      vertx.cancelTimer(retryTimer);
    }
    Future<Void> f = readThread == null ? Future.succeededFuture() : readThread.close();
    return f.otherwiseEmpty().compose(v -> chainThread == null ? Future.succeededFuture() : chainThread.close())
        .onComplete(ar -> {
          if (readClient != null) {
            readClient.shutdown();
          }
          if (writeClient != null) {
            writeClient.shutdown();
          }
        });
  }

  /** Why the chain keeps {@code nodeId} off work, or empty when it may work. */
  public Optional<String> ineligibility(String nodeId) {
    Seen s = seen.get(nodeId);
    if (s == null) {
      return Optional.of("on-chain stake not read yet (NodeRegistry " + registryAddress() + ")");
    }
    if (s.error() != null) {
      return Optional.of("NodeRegistry could not be read: " + s.error());
    }
    NodeStake.Status st = s.status();
    if (!st.registered()) {
      return Optional.of("not registered in NodeRegistry " + registryAddress()
          + ": its operator registers the node's key with at least the minimum stake");
    }
    if (st.ejected()) {
      return Optional.of("ejected in NodeRegistry");
    }
    if (!st.active()) {
      return Optional.of("on-chain stake " + st.stake() + " units is below NodeRegistry's minimum");
    }
    return Optional.empty();
  }

  /** The node's registry entry for {@code /api/nodes} (null when never read). */
  public JsonObject describe(String nodeId) {
    Seen s = seen.get(nodeId);
    if (s == null) {
      return null;
    }
    JsonObject o = new JsonObject().put("registry", registryAddress()).put("checked_at", s.at().toString());
    if (s.error() != null) {
      return o.put("error", s.error());
    }
    NodeStake.Status st = s.status();
    return o.put("registered", st.registered()).put("operator", st.registered() ? st.operator() : null)
        .put("stake", st.stake().toString()).put("unstaking", st.unstaking().toString())
        .put("ejected", st.ejected()).put("active", st.active());
  }

  private String registryAddress() {
    return deployment == null ? "?" : deployment.registry();
  }

  /** Reads the registry entry of every remote node known, on the reading thread. */
  private void refresh() {
    if (stopped || refreshing) {
      return;
    }
    List<RemoteNodes.Remote> nodes = remote.nodes();
    if (nodes.isEmpty()) {
      return;
    }
    refreshing = true;
    readThread.executeBlocking(() -> {
      NodeStake r = reader();
      for (RemoteNodes.Remote n : nodes) {
        byte[] raw = NodeKeys.rawPublicKey(n.publicKey());
        if (raw == null) {
          continue;
        }
        try {
          seen.put(n.nodeId(), new Seen(r.status(raw), null, Instant.now()));
        } catch (IOException e) {
          seen.put(n.nodeId(), new Seen(null, e.toString(), Instant.now()));
          resetReader();
          throw e;
        }
      }
      return null;
    }, false).onComplete(ar -> {
      refreshing = false;
      if (ar.failed()) {
        log.debug("Reading NodeRegistry failed: {}", ar.cause().toString());
      }
    });
  }

  private NodeStake reader() throws IOException {
    NodeStake r = reader;
    if (r == null) {
      Web3j client = ChainRpc.connect(chain.rpcUrl(), deployment, chain.deploymentFile());
      readClient = client;
      r = new NodeStake(client, key, deployment.chainId(), deployment.registry());
      reader = r;
    }
    return r;
  }

  private void resetReader() {
    if (readClient != null) {
      readClient.shutdown();
      readClient = null;
    }
    reader = null;
  }

  /** A slash the ledger stored: into the outbox when the node is registered on chain. */
  private void slashed(NodeLedger.SlashDecision d) {
    Seen s = seen.get(d.nodeId());
    Optional<RemoteNodes.Remote> node = remote.node(d.nodeId());
    byte[] raw = node.map(n -> NodeKeys.rawPublicKey(n.publicKey())).orElse(null);
    if (raw == null || s == null || s.status() == null || !s.status().registered()) {
      return; // a local worker, or a node the registry does not know: nothing to take on chain
    }
    String evidence = Receipt.canonicalJson(d.evidence().copy().put("node_id", d.nodeId()));
    byte[] hash = Hash.sha3(evidence.getBytes(StandardCharsets.UTF_8));
    pool.preparedQuery("INSERT INTO chain_slashes (task_id, node_id, node_key, amount, evidence_hash, evidence, eject) "
            + "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (task_id, node_id) DO NOTHING")
        .execute(Tuple.of(d.taskId(), d.nodeId(), Buffer.buffer(raw),
            new BigDecimal(BigInteger.valueOf(d.amountMicroUsd()).multiply(UNITS_PER_MICRO_USD)), Buffer.buffer(hash),
            evidence, d.eject()))
        .onSuccess(r -> sendNext())
        .onFailure(err -> log.warn("Could not queue the on-chain slash of {} for task {}: {}", d.nodeId(), d.taskId(),
            err.toString()));
  }

  /** Sends the oldest unsent slash, then the next, until none is left or one fails (then: backoff). */
  private void sendNext() {
    if (stopped || sending || retryTimer >= 0) {
      return;
    }
    sending = true;
    pool.query("SELECT id, node_id, node_key, amount, evidence_hash, eject FROM chain_slashes WHERE tx_hash IS NULL "
            + "ORDER BY id LIMIT 1").execute().compose(rows -> {
      if (rows.size() == 0) {
        return Future.succeededFuture(false);
      }
      Row r = rows.iterator().next();
      long id = r.getLong("id");
      String nodeId = r.getString("node_id");
      byte[] raw = r.getBuffer("node_key").getBytes();
      byte[] hash = r.getBuffer("evidence_hash").getBytes();
      BigInteger amount = r.getBigDecimal("amount").toBigInteger();
      boolean eject = r.getBoolean("eject");
      return chainThread.executeBlocking(() -> {
        NodeStake w = writer();
        Optional<NodeStake.Slash> before = w.findSlash(raw, hash, deployment.fromBlock());
        return before.isPresent() ? before.get() : w.slash(raw, amount, hash, eject);
      }, true).compose(slash -> pool.preparedQuery("UPDATE chain_slashes SET tx_hash = $2, block_number = $3, taken = $4, "
              + "burned = $5, ejected = $6, last_error = NULL WHERE id = $1")
          .execute(Tuple.of(id, slash.transactionHash(), slash.blockNumber(), new BigDecimal(slash.amount()),
              slash.burned(), slash.ejected()))
          .map(v -> {
            sent.increment();
            failuresInARow = 0;
            log.info("Node {} slashed on chain: {} units{}{} in {} (block {})", nodeId, slash.amount(),
                slash.burned() ? " burned" : " to the treasury", slash.ejected() ? ", ejected" : "",
                slash.transactionHash(), slash.blockNumber());
            seen.remove(nodeId); // read again before it works again
            refresh();
            return true;
          }), err -> {
            failuresInARow++;
            failures.increment();
            if (err instanceof IOException || err.getCause() instanceof IOException) {
              resetWriter();
            }
            if (Integer.bitCount(failuresInARow) == 1) {
              log.warn("Sending the on-chain slash of {} failed ({} in a row), retrying with backoff: {}", nodeId,
                  failuresInARow, err.toString());
            }
            String m = String.valueOf(err.getMessage());
            return pool.preparedQuery("UPDATE chain_slashes SET attempts = attempts + 1, last_error = $2 WHERE id = $1")
                .execute(Tuple.of(id, m.length() > 500 ? m.substring(0, 500) : m)).otherwiseEmpty()
                .compose(v -> Future.failedFuture(err));
          });
    }).onComplete(ar -> {
      sending = false;
      if (ar.succeeded() && ar.result()) {
        sendNext();
      } else if (ar.failed() && !stopped) {
        long pause = EpochPolicy.backoffMs(failuresInARow, 1_000, 60_000);
        retryTimer = vertx.setTimer(pause, id -> {
          retryTimer = -1;
          sendNext();
        });
      }
    });
  }

  private NodeStake writer() throws IOException {
    if (writer == null) {
      // The same chain-id check as the reader's: a slash signed for the deployment's chain goes only there.
      Web3j client = ChainRpc.connect(chain.rpcUrl(), deployment, chain.deploymentFile());
      writeClient = client;
      writer = new NodeStake(client, key, deployment.chainId(), deployment.registry());
    }
    return writer;
  }

  private void resetWriter() {
    if (writeClient != null) {
      writeClient.shutdown();
      writeClient = null;
    }
    writer = null;
  }
}
