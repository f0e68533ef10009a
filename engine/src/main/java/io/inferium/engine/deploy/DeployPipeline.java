package io.inferium.engine.deploy;

import io.inferium.engine.metrics.EngineMetrics;
import io.inferium.engine.failure.WorkerFailure;
import io.inferium.engine.gateway.WorkerLink;
import io.inferium.engine.gateway.WorkerSupervisor;
import io.inferium.functions.Bundle;
import io.inferium.functions.FunctionKind;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.FunctionSpec;
import io.inferium.functions.FunctionState;
import io.inferium.functions.FunctionStore;
import io.inferium.functions.InvalidSpecException;
import io.inferium.functions.ModelBlobs;
import io.inferium.functions.ModelSignature;
import io.inferium.functions.VerificationCheck;
import io.inferium.functions.onnx.InvalidModelException;
import io.inferium.functions.onnx.OnnxModel;
import io.inferium.functions.onnx.OnnxModelReader;
import io.inferium.functions.onnx.StaticChecks;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deploy-time verification: static checks of the ONNX file (off the event loop), then a load in a
 * throw-away sandbox worker process with a time limit, then a smoke inference ({@link TensorSmoke}, or
 * {@link TextSmoke} for text kinds) on the spec's examples or, without them, on synthesized inputs.
 * A model that crashes or hangs the runtime costs only the sandbox. Every version ends {@code ready}
 * or {@code rejected} with a report; versions left {@code verifying} by a stopped gateway are
 * verified again at start.
 */
public final class DeployPipeline {

  private static final Logger log = LoggerFactory.getLogger(DeployPipeline.class);

  private final Vertx vertx;
  private final FunctionStore store;
  private final ModelBlobs blobs;
  private final WorkerSupervisor supervisor;
  private final WorkerExecutor files;
  private volatile boolean resumeOnlyLocal;
  private final DeploySettings settings;
  private final EngineMetrics metrics;
  private final Deque<FunctionRecord> waiting = new ArrayDeque<>();
  private final Map<String, Promise<FunctionRecord>> outcomes = new ConcurrentHashMap<>();
  /** Versions between their enqueueing and their stored report, by {@link FunctionRecord#ref()}. */
  private final Map<String, VerificationProgress> live = new ConcurrentHashMap<>();
  /** Deployments per owner between their upload and the end of their verification; guarded by {@code this}. */
  private final Map<String, Integer> pendingByOwner = new java.util.HashMap<>();
  private int running;

  public DeployPipeline(Vertx vertx, FunctionStore store, ModelBlobs blobs, WorkerSupervisor supervisor,
      WorkerExecutor files, DeploySettings settings, EngineMetrics metrics) {
    this.vertx = vertx;
    this.store = store;
    this.blobs = blobs;
    this.supervisor = supervisor;
    this.files = files;
    this.settings = settings;
    this.metrics = metrics;
  }

  /**
   * Stores the model by content and records the version as {@code verifying}, then verifies it in the
   * background. Fails with {@link TooManyDeploys} when the verification queue is full.
   */
  public Future<FunctionRecord> deploy(FunctionSpec spec, Path upload, String owner) {
    return deploy(spec, upload, owner, Integer.MAX_VALUE);
  }

  /**
   * Like {@link #deploy(FunctionSpec, Path, String)}, refusing ({@link TooManyDeploys.OwnerShare}) when
   * {@code owner} already has {@code ownerLimit} deployments waiting for or in verification, so one
   * tenant cannot fill the shared queue.
   */
  public Future<FunctionRecord> deploy(FunctionSpec spec, Path upload, String owner, int ownerLimit) {
    TooManyDeploys refused = reserve(owner, ownerLimit);
    if (refused != null) {
      return Future.failedFuture(refused);
    }
    return admit(spec, upload)
        .compose(v -> blobs.ingest(upload))
        .compose(model -> store.create(spec, model.sha256(), model.bytes(), owner))
        .onFailure(err -> release(owner))
        .onSuccess(this::enqueue);
  }

  /**
   * What refuses a deploy with a 400 before anything is stored: a verification policy the kind cannot
   * use, and examples that do not fit the inputs the model file declares (read off the event loop,
   * streaming; a file that does not parse is left to the static checks to report).
   */
  private Future<Void> admit(FunctionSpec spec, Path model) {
    try {
      spec.requireUsableVerification();
    } catch (InvalidSpecException e) {
      return Future.failedFuture(e);
    }
    if (model == null || (spec.examples().isEmpty() && spec.media() == null)) {
      return Future.succeededFuture();
    }
    return files.executeBlocking(() -> {
      OnnxModel declared;
      try {
        declared = OnnxModelReader.read(model);
      } catch (InvalidModelException e) {
        return null;
      }
      ExampleFit.problem(spec.examples(), ExampleFit.declared(declared)).ifPresent(problem -> {
        throw new InvalidSpecException(problem);
      });
      MediaFit.problem(spec, declared).ifPresent(problem -> {
        throw new InvalidSpecException(problem);
      });
      return null;
    }, false).mapEmpty();
  }

  /** Deployments of {@code owner} waiting for or in verification (uploads being stored included). */
  public synchronized int pending(String owner) {
    return owner == null ? 0 : pendingByOwner.getOrDefault(owner, 0);
  }

  private synchronized TooManyDeploys reserve(String owner, int ownerLimit) {
    if (waiting.size() >= settings.queueLimit()) {
      return new TooManyDeploys(waiting.size() + " deployments are waiting for verification");
    }
    if (owner == null) {
      return null;
    }
    int mine = pendingByOwner.getOrDefault(owner, 0);
    if (mine >= ownerLimit) {
      return new TooManyDeploys.OwnerShare(mine);
    }
    pendingByOwner.put(owner, mine + 1);
    return null;
  }

  private synchronized void release(String owner) {
    if (owner != null) {
      pendingByOwner.computeIfPresent(owner, (k, n) -> n <= 1 ? null : n - 1);
    }
  }

  /**
   * Like {@link #deploy(FunctionSpec, Path, String)} for a text function: its files ({@link Bundle#NAMES}
   * to uploads) are stored as one bundle whose manifest hash becomes the version's model hash.
   */
  public Future<FunctionRecord> deployBundle(FunctionSpec spec, Map<String, Path> uploads, String owner) {
    return deployBundle(spec, uploads, owner, Integer.MAX_VALUE);
  }

  /** Like {@link #deployBundle(FunctionSpec, Map, String)} with the owner's share of the queue, as {@link #deploy(FunctionSpec, Path, String, int)}. */
  public Future<FunctionRecord> deployBundle(FunctionSpec spec, Map<String, Path> uploads, String owner, int ownerLimit) {
    TooManyDeploys refused = reserve(owner, ownerLimit);
    if (refused != null) {
      return Future.failedFuture(refused);
    }
    return admit(spec, null)
        .compose(v -> blobs.ingestBundle(uploads))
        .compose(bundle -> store.create(spec, bundle.sha256(), bundle.bytes(), owner))
        .onFailure(err -> release(owner))
        .onSuccess(this::enqueue);
  }

  /** Queues every version a previous run left in {@code verifying}. */
  /**
   * With other gateways on the same database: {@link #resumePending} resumes only versions whose model is on this
   * gateway's disk. A version uploaded to another gateway is verified there (or when that one restarts); here the
   * sandbox could not read it and would reject a good model.
   */
  public void resumeOnlyLocal() {
    resumeOnlyLocal = true;
  }

  public Future<Integer> resumePending() {
    return store.verifying().compose(all -> !resumeOnlyLocal ? Future.succeededFuture(all)
        : files.executeBlocking(() -> all.stream().filter(rec -> Files.exists(blobs.path(rec.modelSha256()))).toList(), false))
        .map(list -> {
      list.forEach(rec -> {
        synchronized (this) {
          if (rec.owner() != null) {
            pendingByOwner.merge(rec.owner(), 1, Integer::sum);
          }
        }
        enqueue(rec);
      });
      if (!list.isEmpty()) {
        log.info("Resuming verification of {} function version(s)", list.size());
      }
      return list.size();
    });
  }

  /** Completes when the given version has left {@code verifying} (immediately if it already has). */
  public Future<FunctionRecord> outcome(String name, int version) {
    Promise<FunctionRecord> p = outcomes.computeIfAbsent(name + "/" + version, k -> Promise.promise());
    return store.version(name, version).compose(rec -> {
      if (rec.isPresent() && rec.get().state() != FunctionState.VERIFYING) {
        p.tryComplete(rec.get());
      }
      return p.future();
    });
  }

  /** Where a version's verification is now, or empty when it is not (or no longer) being verified here. */
  public java.util.Optional<VerificationProgress> progress(String name, int version) {
    return java.util.Optional.ofNullable(live.get(name + "/" + version));
  }

  private void enqueue(FunctionRecord rec) {
    live.put(rec.ref(), new VerificationProgress());
    synchronized (this) {
      waiting.add(rec);
    }
    drain();
  }

  private void drain() {
    FunctionRecord next;
    synchronized (this) {
      if (running >= settings.concurrent() || waiting.isEmpty()) {
        return;
      }
      next = waiting.poll();
      running++;
    }
    verify(next).onComplete(ar -> {
      if (ar.failed()) {
        log.error("Verification of {} could not be recorded: {}", next.ref(), ar.cause().toString());
      }
      synchronized (this) {
        running--;
      }
      release(next.owner());
      drain();
    });
  }

  private static boolean text(FunctionRecord rec) {
    return rec.spec().kind() == FunctionKind.TEXT_GENERATION || rec.spec().kind() == FunctionKind.EMBEDDING;
  }

  private Future<Void> verify(FunctionRecord rec) {
    VerificationProgress progress = live.computeIfAbsent(rec.ref(), k -> new VerificationProgress());
    List<VerificationCheck> checks = progress.checks;
    JsonObject report = new JsonObject();
    progress.step("static_checks");
    return files.executeBlocking(() -> {
          Path model = blobs.path(rec.modelSha256());
          if (text(rec)) {
            model = blobs.path(Bundle.read(model).files().get(Bundle.MODEL).sha256());
          }
          return new StaticChecks(settings.staticChecks()).run(model);
        }, false)
        .compose(statics -> {
          checks.addAll(statics);
          if (statics.stream().anyMatch(VerificationCheck::rejects)) {
            return Future.succeededFuture((ModelSignature) null);
          }
          progress.step("sandbox_start");
          return sandbox(rec, blobs.path(rec.modelSha256()), checks, report, progress);
        })
        .recover(err -> {
          log.error("Verification of {} failed unexpectedly", rec.ref(), err);
          checks.add(VerificationCheck.fail("verification", "internal error: " + err, 0));
          return Future.succeededFuture(null);
        })
        .compose(signature -> {
          // The step a rejection stopped at: the console marks it failed and the later ones skipped.
          report.put("stopped_at", progress.step());
          progress.step("recording");
          return finish(rec, checks, report, signature);
        })
        .onComplete(ar -> live.remove(rec.ref()));
  }

  private Future<ModelSignature> sandbox(FunctionRecord rec, Path model, List<VerificationCheck> checks, JsonObject report,
      VerificationProgress progress) {
    long spawnStart = System.nanoTime();
    return supervisor.spawnSandbox()
        .recover(err -> {
          checks.add(VerificationCheck.fail("sandbox_load", "could not start a sandbox worker: " + err.getMessage(), ms(spawnStart)));
          return Future.failedFuture(new Skip());
        })
        .compose(link -> load(rec, model, link, checks, report, progress)
            .compose(sig -> (text(rec) ? TextSmoke.run(vertx, rec, link, settings.smokeTimeoutMs(), checks, report,
                    err -> crashDetail(link, err))
                : TensorSmoke.run(vertx, rec, link, sig, settings.smokeTimeoutMs(), checks, report, err -> crashDetail(link, err)))
                .map(sig))
            .eventually(() -> supervisor.retire(link, "verification of " + rec.ref() + " finished")))
        .recover(err -> err instanceof Skip ? Future.succeededFuture(null) : Future.failedFuture(err));
  }

  /** Marks a step that already recorded its failing check. */
  static final class Skip extends RuntimeException {
    Skip() {
      super(null, null, false, false);
    }
  }

  private Future<ModelSignature> load(FunctionRecord rec, Path model, WorkerLink link, List<VerificationCheck> checks,
      JsonObject report, VerificationProgress progress) {
    progress.step("sandbox_load");
    long start = System.nanoTime();
    Future<JsonObject> extra = text(rec) ? files.executeBlocking(() -> io.inferium.engine.text.TextLoad.meta(blobs, rec), false)
        : Future.succeededFuture(new JsonObject());
    return withTimeout(extra.compose(meta -> link.ensureLoaded(rec.modelSha256(), model, meta)), settings.loadTimeoutMs(),
        "the model did not load within " + settings.loadTimeoutMs() + " ms")
        .recover(err -> crashDetail(link, err).compose(detail -> {
          checks.add(VerificationCheck.fail("sandbox_load", detail, ms(start)));
          return Future.failedFuture(new Skip());
        }))
        .compose(loaded -> {
          String problem = link.attestation().checkModel(rec.modelSha256(), loaded.attestedSha256()).orElse(null);
          if (problem != null) {
            checks.add(VerificationCheck.fail("sandbox_load", problem, ms(start)));
            return Future.failedFuture(new Skip());
          }
          report.put("load_ms", loaded.loadMs());
          checks.add(VerificationCheck.pass("sandbox_load", "loaded by ONNX Runtime "
              + link.attestation().runtimeVersion() + " in a sandbox worker in " + loaded.loadMs() + " ms", ms(start)));
          if (!loaded.skippedOutputs().isEmpty()) {
            checks.add(VerificationCheck.warn("tensor_outputs", "outputs that are not tensors are not served: "
                + String.join(", ", loaded.skippedOutputs()), 0));
          }
          labelsCheck(rec.spec(), loaded.signature(), checks);
          progress.step("smoke_run");
          if (text(rec)) {
            report.put("text", loaded.text());
            return Future.succeededFuture(loaded.signature());
          }
          if (loaded.signature().outputs().isEmpty()) {
            checks.add(VerificationCheck.fail("tensor_outputs", "the model has no tensor output to serve", 0));
            return Future.failedFuture(new Skip());
          }
          return Future.succeededFuture(loaded.signature());
        });
  }

  private static void labelsCheck(FunctionSpec spec, ModelSignature sig, List<VerificationCheck> checks) {
    if ((spec.kind() != FunctionKind.CLASSIFIER && spec.kind() != FunctionKind.IMAGE_CLASSIFIER && spec.kind() != FunctionKind.VIDEO)
        || spec.labels().isEmpty()) {
      return;
    }
    int n = spec.labels().size();
    boolean fits = sig.outputs().stream().anyMatch(o -> o.shape().length > 0
        && (o.shape()[o.shape().length - 1] == n || o.shape()[o.shape().length - 1] < 0));
    if (fits) {
      checks.add(VerificationCheck.pass("labels_match_outputs", n + " labels match an output's last dimension", 0));
    } else {
      checks.add(VerificationCheck.fail("labels_match_outputs", n + " labels, but no output has a last dimension of "
          + n + ": " + sig.outputs(), 0));
    }
  }

  /** A failure's message; for a crashed sandbox, how it died and the last thing it logged. */
  private Future<String> crashDetail(WorkerLink link, Throwable err) {
    if (err instanceof WorkerFailure wf && wf.lost()) {
      return supervisor.sandboxLogTail(link).map(tail -> {
        String last = lastLine(tail);
        return "the worker process crashed: " + wf.getMessage() + (last.isEmpty() ? "" : " — last output: " + last);
      });
    }
    return Future.succeededFuture(err.getMessage());
  }

  private static String lastLine(String tail) {
    String[] lines = tail.strip().split("\n");
    String last = lines.length == 0 ? "" : lines[lines.length - 1].strip();
    return last.length() > 300 ? last.substring(0, 300) + "…" : last;
  }

  private <T> Future<T> withTimeout(Future<T> f, long ms, String message) {
    Promise<T> p = Promise.promise();
    long timer = vertx.setTimer(ms, t -> p.tryFail(message));
    f.onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (ar.succeeded()) {
        p.tryComplete(ar.result());
      } else {
        p.tryFail(ar.cause());
      }
    });
    return p.future();
  }

  private Future<Void> finish(FunctionRecord rec, List<VerificationCheck> checks, JsonObject report, ModelSignature signature) {
    VerificationCheck failed = checks.stream().filter(VerificationCheck::rejects).findFirst().orElse(null);
    FunctionState state = failed == null && signature != null ? FunctionState.READY : FunctionState.REJECTED;
    String reason = failed == null ? null : failed.name() + ": " + failed.message();
    if (state == FunctionState.READY) {
      report.remove("stopped_at");
    }
    report.put("checks", new JsonArray(checks.stream().map(VerificationCheck::toJson).toList()));
    metrics.verification(state.wire());
    log.info("Function {} is {}{}", rec.ref(), state.wire(), reason == null ? "" : " (" + reason + ")");
    return store.finishVerification(rec.name(), rec.version(), state, reason, report, signature)
        .compose(v -> store.version(rec.name(), rec.version()))
        .onSuccess(updated -> updated.ifPresent(u -> {
          Promise<FunctionRecord> p = outcomes.remove(rec.ref());
          if (p != null) {
            p.tryComplete(u);
          }
        }))
        .mapEmpty();
  }

  private static long ms(long startNanos) {
    return (System.nanoTime() - startNanos) / 1_000_000;
  }
}
