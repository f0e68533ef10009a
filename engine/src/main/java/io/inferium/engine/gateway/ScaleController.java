package io.inferium.engine.gateway;

import io.inferium.engine.metrics.EngineMetrics;
import io.inferium.engine.schedule.SchedulerLoad;
import io.inferium.functions.FunctionRecord;
import io.inferium.functions.FunctionStore;
import io.inferium.functions.ModelBlobs;
import io.vertx.core.Vertx;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serverless behaviour on a timer: unloads models idle on a worker (scale to zero), keeps
 * {@code keep_warm} functions loaded on every worker (including replacements), and grows or shrinks
 * the worker pool between its bounds: up when requests have waited for a free worker for a while,
 * down when no batch has run for a while. Every change is logged and counted with its reason.
 */
public final class ScaleController {

  private static final Logger log = LoggerFactory.getLogger(ScaleController.class);
  private static final long WARM_REFRESH_MS = 5_000;

  private final Vertx vertx;
  private final WorkerSupervisor supervisor;
  private final SchedulerLoad load;
  private final FunctionStore store;
  private final ModelBlobs blobs;
  private final EngineMetrics metrics;
  private final ScaleSettings settings;
  private volatile Map<String, String> keepWarm = Map.of();
  private long lastWarmRefresh;
  private long pressureSince = -1;
  private long lastScaleNanos = System.nanoTime();
  private long timer = -1;
  private final Set<String> warming = java.util.concurrent.ConcurrentHashMap.newKeySet();

  public ScaleController(Vertx vertx, WorkerSupervisor supervisor, SchedulerLoad load, FunctionStore store, ModelBlobs blobs,
      EngineMetrics metrics, ScaleSettings settings) {
    this.vertx = vertx;
    this.supervisor = supervisor;
    this.load = load;
    this.store = store;
    this.blobs = blobs;
    this.metrics = metrics;
    this.settings = settings;
  }

  public void start() {
    refreshKeepWarm();
    timer = vertx.setPeriodic(settings.tickMs(), id -> tick());
  }

  public void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }

  /** Re-reads which served functions want to stay warm (after a deploy turns one ready, say). */
  public void refreshKeepWarm() {
    lastWarmRefresh = System.nanoTime();
    store.served().onSuccess(list -> keepWarm = list.stream().filter(f -> f.spec().keepWarm())
        .collect(Collectors.toMap(FunctionRecord::modelSha256, FunctionRecord::name, (a, b) -> a)));
  }

  private void tick() {
    long now = System.nanoTime();
    if (now - lastWarmRefresh > TimeUnit.MILLISECONDS.toNanos(WARM_REFRESH_MS)) {
      refreshKeepWarm();
    }
    Set<String> warm = keepWarm.keySet();
    long idleLimit = TimeUnit.MILLISECONDS.toNanos(settings.idleUnloadMs());
    for (WorkerLink w : supervisor.workers()) {
      for (String sha : warm) {
        String key = w.workerId() + "/" + w.pid() + "/" + sha;
        if (w.needsLoad(sha) && warming.add(key)) {
          w.ensureLoaded(sha, blobs.path(sha)).onComplete(ar -> {
            warming.remove(key);
            if (ar.succeeded()) {
              metrics.prewarmed(keepWarm.getOrDefault(sha, sha));
              log.info("Pre-loaded {} on worker {} to keep it warm", keepWarm.getOrDefault(sha, sha), w.workerId());
            }
          });
        }
      }
      for (Map.Entry<String, Long> m : w.loadedModels().entrySet()) {
        if (!warm.contains(m.getKey()) && now - m.getValue() > idleLimit && w.inUse(m.getKey()) == 0) {
          log.info("Unloading model {} from worker {}: idle for {} s", m.getKey().substring(0, 12), w.workerId(),
              TimeUnit.NANOSECONDS.toSeconds(now - m.getValue()));
          metrics.unloaded("idle");
          w.unload(m.getKey());
        }
      }
    }
    autoscale(now);
  }

  private void autoscale(long now) {
    if (load.waitingForCapacity() && load.queued() > 0) {
      if (pressureSince < 0) {
        pressureSince = now;
      }
    } else {
      pressureSince = -1;
    }
    int size = supervisor.size();
    long cooldown = TimeUnit.MILLISECONDS.toNanos(settings.scaleUpAfterMs());
    if (pressureSince >= 0 && now - pressureSince >= cooldown && size < settings.maxWorkers()
        && now - lastScaleNanos >= cooldown) {
      String reason = load.queued() + " requests waited " + TimeUnit.NANOSECONDS.toMillis(now - pressureSince)
          + " ms for a free worker";
      supervisor.addWorker(reason);
      metrics.scaled("up", "backlog");
      lastScaleNanos = now;
      pressureSince = -1;
      return;
    }
    long idle = now - Math.max(load.lastDispatchNanos(), lastScaleNanos);
    if (size > settings.minWorkers() && idle >= TimeUnit.MILLISECONDS.toNanos(settings.scaleDownAfterMs())
        && load.queued() == 0) {
      String reason = "no batch for " + TimeUnit.NANOSECONDS.toSeconds(idle) + " s";
      if (supervisor.retireWorker(reason)) {
        metrics.scaled("down", "idle");
        lastScaleNanos = now;
      }
    }
  }
}
