package io.inferium.engine.receipts;

import io.inferium.chain.Anchorer;
import io.inferium.chain.ChainRpc;
import io.inferium.chain.Deployment;
import io.inferium.chain.KeyFile;
import io.inferium.chain.Receipt;
import io.inferium.chain.ReceiptEpoch;
import io.inferium.chain.ReceiptLedger;
import io.inferium.functions.CompletionEvent;
import io.inferium.infra.events.EventLog;
import io.inferium.infra.events.EventSubscription;
import io.inferium.infra.events.LogRecord;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.web3j.crypto.Credentials;
import org.web3j.protocol.Web3j;

/**
 * Receipts of answered requests, off the request path (issue 13).
 *
 * <ul>
 *   <li>Consumer group {@value #GROUP} on {@link EventLog#COMPLETIONS}: each completion event becomes a receipt row
 *       ({@link ReceiptLedger#recordAll}, idempotent on the request id); the log commits only after the insert, so a
 *       database outage delays receipts and never loses one. The request path never waits for any of this.
 *   <li>The closer: every {@link EpochPolicy#tickMs} it closes an epoch of up to N waiting receipts once N wait or the
 *       oldest has waited T ({@link ReceiptLedger#closeEpoch}: Merkle tree on a worker thread, root stored).
 *   <li>The anchoring outbox, when a chain is configured: closed epochs whose root is not yet on chain
 *       ({@code receipt_epochs.tx_hash IS NULL}, durable) are handed to {@link Anchorer} one at a time, in epoch
 *       order (the contract takes epochs in increasing order only), on a thread of their own. A failure (RPC down,
 *       not confirmed in time) is counted and stored with the epoch, and the same epoch is retried after a doubling
 *       pause; later epochs wait behind it. Anchorer reads the chain before sending, so an epoch whose commit was
 *       sent before a failure or a crash is found there, never sent twice.
 * </ul>
 */
public final class ReceiptService {

  private static final Logger log = LoggerFactory.getLogger(ReceiptService.class);
  /** The consumer group that records receipts. */
  public static final String GROUP = "receipts";
  private static final HexFormat HEX = HexFormat.of();

  /** A receipt as served to the tenant whose request it was (null tenant: platform keys, admins only). */
  public record View(String tenantId, JsonObject body) {
  }

  private final Vertx vertx;
  private final EventLog events;
  private final ReceiptLedger ledger;
  private final ReceiptSettings settings;
  private final EpochPolicy policy;
  private final Counter recorded;
  private final Counter malformed;
  private final Counter epochsClosed;
  private final Counter epochsAnchored;
  private final Counter anchorFailures;
  private final Counter rpcErrors;
  private final Counter gasUsed;
  /** The latest block number seen while confirming a commit (0 until the first). */
  private volatile long chainHeight;
  private volatile ReceiptLedger.Backlog backlog = new ReceiptLedger.Backlog(0, 0, 0, 0);

  private EventSubscription subscription;
  private long timer = -1;
  private boolean stopped;
  private boolean closing;
  private boolean anchoring;
  private long retryTimer = -1;
  private int failuresInARow;
  // Chain side (null when anchoring is off); the web3j client is made on the chain thread at the first attempt.
  private Deployment deployment;
  private Credentials key;
  private WorkerExecutor chainThread;
  private Web3j web3j;
  private Anchorer anchorer;

  public ReceiptService(Vertx vertx, Pool pool, EventLog events, MeterRegistry registry, ReceiptSettings settings) {
    this.vertx = vertx;
    this.events = events;
    this.ledger = new ReceiptLedger(vertx, pool);
    this.settings = settings;
    this.policy = new EpochPolicy(settings.epochSize(), settings.epochMs());
    this.recorded = registry.counter("inferium.chain.receipts.recorded");
    this.malformed = registry.counter("inferium.chain.receipts.malformed");
    this.epochsClosed = registry.counter("inferium.chain.epochs.closed");
    this.epochsAnchored = registry.counter("inferium.chain.epochs.anchored");
    this.anchorFailures = registry.counter("inferium.chain.anchor.failures");
    this.rpcErrors = registry.counter("inferium.chain.rpc.errors");
    this.gasUsed = Counter.builder("inferium.chain.gas.used")
        .description("Gas of the anchoring transactions sent from this gateway's key, counted once each when confirmed")
        .register(registry);
    Gauge.builder("inferium.chain.block.height", this, s -> s.chainHeight)
        .description("The latest block number seen by anchoring (while confirming a commit); 0 before the first")
        .register(registry);
    Gauge.builder("inferium.chain.receipts.pending", this, s -> s.backlog.unassigned())
        .description("Receipts recorded and not yet in a closed epoch").register(registry);
    // With anchoring off nothing is ever anchored: the outbox gauges stay 0 rather than grow without end.
    Gauge.builder("inferium.chain.epochs.unanchored", this, s -> s.anchoringOn() ? s.backlog.unanchored() : 0)
        .description("Closed epochs whose root is not yet anchored (the outbox)").register(registry);
    Gauge.builder("inferium.chain.anchor.lag.seconds", this,
            s -> s.anchoringOn() ? s.backlog.oldestUnanchoredMs() / 1000.0 : 0)
        .description("How long the oldest closed, unanchored epoch has waited for its root to be anchored")
        .register(registry);
  }

  /** Whether roots go to a chain. */
  public boolean anchoringOn() {
    return settings.chain() != null;
  }

  /**
   * Reads the deployment and key files (a bad one fails the start, naming the file), subscribes, starts the closer.
   * The chain itself is not contacted here: an RPC endpoint that is down delays anchoring, never the gateway.
   */
  public Future<Void> start() {
    Future<Void> chainFiles = Future.succeededFuture();
    ReceiptSettings.Chain chain = settings.chain();
    if (chain != null) {
      chainFiles = vertx.executeBlocking(() -> {
        deployment = Deployment.read(chain.deploymentFile());
        key = KeyFile.read(chain.keyFile());
        return null;
      }, false).mapEmpty();
    }
    return chainFiles.compose(v -> {
      if (chain != null) {
        // One thread: commits go out one at a time, in epoch order. A commit waits for its confirmations (up to the
        // confirmation limit), so the blocked-thread check allows that long and more.
        chainThread = vertx.createSharedWorkerExecutor("inferium-chain", 1,
            chain.confirmationLimitMs() + 120_000, TimeUnit.MILLISECONDS);
        log.info("Receipts: anchoring to ReceiptAnchor {} on chain {} via {} as {} ({} confirmation(s))",
            deployment.anchor(), deployment.chainId(), chain.rpcUrl(), key.getAddress(), chain.confirmations());
      } else {
        log.info("Receipts: anchoring off (no --chain-rpc); epochs of {} receipts or {} ms are still built and served",
            settings.epochSize(), settings.epochMs());
      }
      return events.subscribe(EventLog.COMPLETIONS, GROUP, this::record);
    }).onSuccess(s -> {
      subscription = s;
      timer = vertx.setPeriodic(policy.tickMs(), id -> tick());
    }).mapEmpty();
  }

  /** Stops consuming and closing; what is unrecorded or unanchored stays durable for the next start. */
  public Future<Void> stop() {
    stopped = true;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    if (retryTimer >= 0) {
      vertx.cancelTimer(retryTimer);
    }
    Future<Void> f = subscription == null ? Future.succeededFuture() : subscription.close();
    if (chainThread != null) {
      // After the attempt in progress (if any): closing the executor waits for it.
      f = f.otherwiseEmpty().compose(v -> chainThread.close()).onComplete(ar -> {
        if (web3j != null) {
          web3j.shutdown();
        }
      });
    }
    return f;
  }

  private Future<Void> record(List<LogRecord> records) {
    // Parsing, building and hashing the batch's receipts all happen on a worker thread (ReceiptLedger.recordAll):
    // none of it belongs on the event loop that serves requests. The records' JSON is only read there.
    int[] size = {0};
    return ledger.recordAll(() -> {
      List<ReceiptLedger.Entry> batch = entries(records);
      size[0] = batch.size();
      return batch;
    }).map(n -> {
      recorded.increment(n);
      return (Void) null;
    }).onFailure(err -> log.warn("Recording {} receipts failed, they will be redelivered: {}", size[0] > 0 ? size[0]
        : records.size(), err.toString()));
  }

  /** The receipts of a batch of completion records (on a worker thread); fails when one is from a newer gateway. */
  private List<ReceiptLedger.Entry> entries(List<LogRecord> records) {
    List<ReceiptLedger.Entry> batch = new ArrayList<>(records.size());
    for (LogRecord r : records) {
      int schema;
      try {
        schema = CompletionEvent.schemaVersion(r.value());
      } catch (RuntimeException bad) {
        skip(r, bad);
        continue;
      }
      if (schema < CompletionEvent.SCHEMA_VERSION) {
        continue; // fire-and-forget copies from before completion events were the record: no receipt
      }
      if (schema > CompletionEvent.SCHEMA_VERSION) {
        // A newer gateway's event: skipping it would leave its request without a receipt; hold until upgraded.
        throw new IllegalStateException("completion event schema " + schema + " is newer than this receipts consumer");
      }
      try {
        CompletionEvent e = r.decoded(CompletionEvent.class, CompletionEvent::fromJson);
        batch.add(new ReceiptLedger.Entry(Receipt.of(e), e.tenantId()));
      } catch (RuntimeException bad) {
        skip(r, bad);
      }
    }
    return batch;
  }

  private void skip(LogRecord r, RuntimeException bad) {
    malformed.increment();
    log.error("Skipping a completion record with no possible receipt at {}/{}: {}", r.topic(), r.offset(), bad.toString());
  }

  /** One look of the closer: refresh the backlog, close an epoch if the policy says so (again at once if full). */
  private void tick() {
    if (stopped || closing) {
      return;
    }
    closing = true;
    ledger.backlog().compose(b -> {
      backlog = b;
      if (!policy.shouldClose(b.unassigned(), b.oldestUnassignedMs())) {
        return Future.succeededFuture(Optional.<ReceiptEpoch>empty());
      }
      return ledger.closeEpoch(settings.epochSize());
    }).onComplete(ar -> {
      closing = false;
      if (ar.failed()) {
        log.warn("Closing a receipt epoch failed (retried at the next tick): {}", ar.cause().toString());
      } else if (ar.result().isPresent()) {
        ReceiptEpoch e = ar.result().get();
        epochsClosed.increment();
        log.debug("Receipt epoch {} closed: {} receipts, root 0x{}", e.epoch(), e.count(), HEX.formatHex(e.root()));
        if (e.count() >= settings.epochSize()) {
          vertx.runOnContext(v -> tick());
        }
      }
      if (ar.succeeded()) {
        anchorNext();
      }
    });
  }

  /** Anchors the oldest unanchored epoch, then the next, until none is left or one fails (then: backoff). */
  private void anchorNext() {
    if (settings.chain() == null || stopped || anchoring || retryTimer >= 0) {
      return;
    }
    anchoring = true;
    ledger.pendingEpochs().compose(pending -> {
      if (pending.isEmpty()) {
        return Future.succeededFuture(false);
      }
      ReceiptLedger.PendingEpoch next = pending.get(0);
      return chainThread.executeBlocking(() -> anchorer().commit(next.epoch(), next.root(), next.receipts()), true)
          .compose(anchored -> ledger.markAnchored(anchored).map(v -> {
            epochsAnchored.increment();
            gasUsed.increment(anchored.gasUsed());
            chainHeight = Math.max(chainHeight, anchored.chainHeight());
            failuresInARow = 0;
            log.info("Receipt epoch {} anchored in {} (block {}){}", anchored.epoch(), anchored.transactionHash(),
                anchored.blockNumber(), anchored.alreadyThere() ? ", found already committed" : "");
            return true;
          }), err -> {
            failed(err);
            return ledger.anchorFailed(next.epoch(), describe(err)).otherwiseEmpty()
                .compose(v -> Future.failedFuture(err));
          });
    }).onComplete(ar -> {
      anchoring = false;
      if (ar.succeeded() && ar.result()) {
        anchorNext();
      } else if (ar.failed() && !stopped) {
        long pause = EpochPolicy.backoffMs(failuresInARow, settings.retryMinMs(), settings.retryMaxMs());
        retryTimer = vertx.setTimer(pause, id -> {
          retryTimer = -1;
          anchorNext();
        });
      }
    });
  }

  private void failed(Throwable err) {
    failuresInARow++;
    anchorFailures.increment();
    if (isRpcError(err)) {
      rpcErrors.increment();
      if (web3j != null) {
        // A fresh client (and connection pool) for the next attempt.
        web3j.shutdown();
        web3j = null;
        anchorer = null;
      }
    }
    if (Integer.bitCount(failuresInARow) == 1) { // 1st, 2nd, 4th, 8th… failure in a row: an outage logs a few lines
      log.warn("Anchoring failed ({} in a row), retrying with backoff: {}", failuresInARow, describe(err));
    }
  }

  private static boolean isRpcError(Throwable err) {
    for (Throwable t = err; t != null; t = t.getCause()) {
      if (t instanceof IOException) {
        return true;
      }
    }
    return false;
  }

  private static String describe(Throwable err) {
    String m = err.getMessage();
    return err.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }

  /** On the chain thread: the anchorer, made once the RPC endpoint answers and says it is the deployment's chain. */
  private Anchorer anchorer() throws IOException {
    if (anchorer == null) {
      ReceiptSettings.Chain chain = settings.chain();
      Web3j client = ChainRpc.connect(chain.rpcUrl(), deployment, chain.deploymentFile());
      try {
        anchorer = new Anchorer(client, key, deployment.chainId(), deployment.anchor(), chain.confirmations(),
            Duration.ofMillis(chain.confirmationLimitMs()), deployment.fromBlock());
        web3j = client;
      } catch (RuntimeException e) {
        client.shutdown();
        throw e;
      }
    }
    return anchorer;
  }

  /** The receipt of {@code requestId} as {@code GET /api/receipts/{id}} serves it; empty when there is none. */
  public Future<Optional<View>> lookup(String requestId) {
    return ledger.find(requestId).map(found -> found.map(this::view));
  }

  private View view(ReceiptLedger.Stored s) {
    Receipt receipt = s.receipt();
    JsonObject body = new JsonObject().put("request_id", receipt.requestId());
    JsonObject anchoring = new JsonObject();
    String status;
    if (s.proven().isEmpty()) {
      status = "pending";
      anchoring.put("state", anchoringOn() ? "pending" : "off");
    } else if (s.transactionHash().isPresent()) {
      status = "anchored";
      anchoring.put("state", "anchored").put("tx_hash", s.transactionHash().get())
          .put("block_number", s.blockNumber().orElse(null));
    } else if (anchoringOn()) {
      status = "awaiting anchoring";
      anchoring.put("state", "queued").put("attempts", s.anchoring().attempts());
      if (s.anchoring().lastError() != null) {
        anchoring.put("last_error", s.anchoring().lastError());
      }
    } else {
      status = "anchoring off";
      anchoring.put("state", "off");
    }
    if (deployment != null) {
      anchoring.put("chain_id", deployment.chainId()).put("contract", deployment.anchor());
    }
    body.put("status", status);
    s.proven().ifPresentOrElse(p -> body.put("epoch", p.epoch()).put("root", "0x" + HEX.formatHex(p.root()))
            .put("proof", new JsonArray(new ArrayList<>(p.proofHex()))),
        () -> body.put("epoch", (Object) null).put("proof", (Object) null).put("root", (Object) null)
            .put("note", "its epoch closes within " + settings.epochMs() / 1000.0 + " s or " + settings.epochSize()
                + " receipts; the proof and root appear then"));
    String leaf = "0x" + HEX.formatHex(receipt.leaf());
    body.put("leaf", leaf).put("receipt", receipt.fieldsJson().put("leaf", leaf)).put("anchoring", anchoring);
    return new View(s.tenantId().orElse(null), body);
  }
}
