package io.inferium.engine.settlement;

import io.inferium.chain.ChainRpc;
import io.inferium.chain.Deployment;
import io.inferium.chain.KeyFile;
import io.inferium.chain.Settler;
import io.inferium.engine.receipts.EpochPolicy;
import io.inferium.engine.receipts.ReceiptSettings;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonArray;
import io.vertx.sqlclient.Pool;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.web3j.crypto.Credentials;
import org.web3j.protocol.Web3j;

/**
 * Settlement of the payout ledger on chain (issue 13): builds settlement epochs ({@link SettlementLedger#build}) every
 * {@code intervalMs} and when an admin asks ({@code POST /api/settlements}), and opens each on
 * {@code PayoutDistributor} through a durable outbox ({@code settlement_epochs.tx_hash IS NULL}), in epoch order, on
 * the chain thread that anchoring uses too (one key's transactions go out one at a time), retried with a doubling
 * pause after a failure. Needs a chain: without {@code --chain-rpc} nothing is built (payouts stay in the ledger).
 */
public final class SettlementService {

  private static final Logger log = LoggerFactory.getLogger(SettlementService.class);
  /** Rows younger than this are left to the next epoch: billing may still be writing their usage event's siblings. */
  static final long SETTLE_MARGIN_MS = 1_000;

  private final Vertx vertx;
  private final SettlementLedger ledger;
  private final OperatorEarnings operatorEarnings;
  private final ReceiptSettings.Chain chain;
  private final long intervalMs;
  private final long retryMinMs;
  private final long retryMaxMs;
  private final Counter built;
  private final Counter opened;
  private final Counter failures;
  private volatile long unopened;

  private Deployment deployment;
  private Credentials key;
  private WorkerExecutor chainThread;
  private Web3j web3j;
  private Settler settler;
  private long timer = -1;
  private long retryTimer = -1;
  private boolean opening;
  private boolean stopped;
  private int failuresInARow;

  /**
   * @param chain      where epochs are opened (null: settlement off)
   * @param intervalMs how often an epoch is built (0: only when an admin asks)
   */
  public SettlementService(Vertx vertx, Pool pool, MeterRegistry registry, ReceiptSettings.Chain chain, long intervalMs,
      long retryMinMs, long retryMaxMs) {
    this.vertx = vertx;
    this.ledger = new SettlementLedger(vertx, pool);
    this.operatorEarnings = new OperatorEarnings(pool);
    this.chain = chain;
    this.intervalMs = intervalMs;
    this.retryMinMs = retryMinMs;
    this.retryMaxMs = retryMaxMs;
    this.built = registry.counter("inferium.chain.settlement.epochs.built");
    this.opened = registry.counter("inferium.chain.settlement.epochs.opened");
    this.failures = registry.counter("inferium.chain.settlement.failures");
    Gauge.builder("inferium.chain.settlement.epochs.unopened", this, s -> s.unopened)
        .description("Settlement epochs built and not yet opened on the distributor (the outbox)").register(registry);
  }

  public boolean on() {
    return chain != null;
  }

  public SettlementLedger ledger() {
    return ledger;
  }

  /** Per-node earnings of operators, from the same payout rows this service settles. */
  public OperatorEarnings operatorEarnings() {
    return operatorEarnings;
  }

  /** The chain's id and distributor address, for answers that name them; null when settlement is off. */
  public Deployment deployment() {
    return deployment;
  }

  public Future<Void> start() {
    if (chain == null) {
      return Future.succeededFuture();
    }
    return vertx.executeBlocking(() -> {
      deployment = Deployment.read(chain.deploymentFile());
      key = KeyFile.read(chain.keyFile());
      return null;
    }, false).onSuccess(v -> {
      // The anchoring outbox's executor (same name, same single thread): one key's transactions in order.
      chainThread = vertx.createSharedWorkerExecutor("inferium-chain", 1, chain.confirmationLimitMs() + 120_000,
          TimeUnit.MILLISECONDS);
      log.info("Settlement: epochs opened on PayoutDistributor {} as {}{}", deployment.distributor(), key.getAddress(),
          intervalMs > 0 ? ", one every " + intervalMs / 1000 + " s" : ", when an admin asks (POST /api/settlements)");
      if (intervalMs > 0) {
        timer = vertx.setPeriodic(intervalMs, id -> settle(Instant.now().minusMillis(SETTLE_MARGIN_MS))
            .onFailure(err -> log.warn("Building a settlement epoch failed (next try in {} s): {}", intervalMs / 1000,
                err.toString())));
      }
      openNext(); // what an earlier run built and did not open
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
    Future<Void> f = chainThread == null ? Future.succeededFuture() : chainThread.close();
    return f.onComplete(ar -> {
      if (web3j != null) {
        web3j.shutdown();
      }
    });
  }

  /** Builds an epoch of what is unsettled before {@code cutoff} (empty: nobody with an address is owed anything). */
  public Future<Optional<SettlementLedger.Built>> settle(Instant cutoff) {
    if (chain == null) {
      return Future.failedFuture(new IllegalStateException("settlement needs a chain: start the gateway with --chain-rpc"));
    }
    return ledger.build(cutoff).onSuccess(b -> b.ifPresent(e -> {
      built.increment();
      log.info("Settlement epoch {} built: {} account(s), {} µUSD paid out, {} µUSD of platform share burned",
          e.epoch().epoch(), e.accounts(), e.payoutMicroUsd(),
          e.platformMicroUsd());
      openNext();
    }));
  }

  /** The settlements that pay {@code tenantId}. */
  public Future<JsonArray> claimsOf(String tenantId) {
    return ledger.claimsOf(tenantId, 100);
  }

  /** Opens the oldest unopened epoch, then the next, until none is left or one fails (then: backoff). */
  private void openNext() {
    if (chain == null || stopped || opening || retryTimer >= 0) {
      return;
    }
    opening = true;
    ledger.pending().compose(pending -> {
      unopened = pending.size();
      if (pending.isEmpty()) {
        return Future.succeededFuture(false);
      }
      SettlementLedger.Pending next = pending.get(0);
      return chainThread.executeBlocking(() -> settler().open(next.epoch()), true)
          .compose(o -> ledger.opened(o).map(v -> {
            opened.increment();
            unopened = Math.max(0, unopened - 1);
            failuresInARow = 0;
            log.info("Settlement epoch {} opened in {} (block {}){}", o.epoch(), o.transactionHash(), o.blockNumber(),
                o.alreadyThere() ? ", found already open" : "");
            return true;
          }), err -> {
            failed(err);
            return ledger.failed(next.epoch().epoch(), describe(err)).otherwiseEmpty()
                .compose(v -> Future.failedFuture(err));
          });
    }).onComplete(ar -> {
      opening = false;
      if (ar.succeeded() && ar.result()) {
        openNext();
      } else if (ar.failed() && !stopped) {
        long pause = EpochPolicy.backoffMs(failuresInARow, retryMinMs, retryMaxMs);
        retryTimer = vertx.setTimer(pause, id -> {
          retryTimer = -1;
          openNext();
        });
      }
    });
  }

  private void failed(Throwable err) {
    failuresInARow++;
    failures.increment();
    for (Throwable t = err; t != null; t = t.getCause()) {
      if (t instanceof IOException && web3j != null) {
        web3j.shutdown();
        web3j = null;
        settler = null;
        break;
      }
    }
    if (Integer.bitCount(failuresInARow) == 1) {
      log.warn("Opening a settlement epoch failed ({} in a row), retrying with backoff: {}", failuresInARow,
          describe(err));
    }
  }

  private static String describe(Throwable err) {
    String m = err.getMessage();
    return err.getClass().getSimpleName() + (m == null ? "" : ": " + m);
  }

  /** On the chain thread: the settler, made once the RPC endpoint answers as the deployment's chain. */
  private Settler settler() throws IOException {
    if (settler == null) {
      Web3j client = ChainRpc.connect(chain.rpcUrl(), deployment, chain.deploymentFile());
      try {
        settler = new Settler(client, key, deployment, chain.confirmations(), Duration.ofMillis(chain.confirmationLimitMs()));
        web3j = client;
      } catch (RuntimeException e) {
        client.shutdown();
        throw e;
      }
    }
    return settler;
  }
}
