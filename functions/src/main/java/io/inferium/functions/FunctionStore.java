package io.inferium.functions;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Function versions in PostgreSQL. Every method is non-blocking and returns a Vert.x future; model
 * bytes are not here but in {@link ModelBlobs}.
 */
public final class FunctionStore {

  private static final String UNIQUE_VIOLATION = "23505";
  private static final int MAX_LIST = 500;
  /** First key of the per-name advisory lock that serialises creates (the second is the name's hash). */
  private static final int CREATE_LOCK_CLASS = 0x1f5_0001;
  private static final String COLUMNS =
      "name, version, spec, model_sha256, model_bytes, owner, state, state_reason, report, signature, created_at, updated_at";

  /**
   * Reads on the request path are cached briefly (this process's own writes invalidate at once). An expired entry is
   * served while one refresh runs (stale-while-revalidate), so a busy function's requests neither wait for nor
   * stampede the database every few seconds; and while the database cannot be read, an entry confirmed within
   * {@link #STALE_IF_ERROR_NANOS} keeps being served (stale-if-error), retried once a second, so functions already
   * known keep answering through a database outage.
   */
  private static final long DEFAULT_TTL_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(5);
  static final long STALE_IF_ERROR_NANOS = java.util.concurrent.TimeUnit.MINUTES.toNanos(10);
  private static final long RETRY_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(1);
  private static final int CACHE_SIZE = 10_000;

  private final Pool pool;
  private final Map<String, Cached> cache = new java.util.LinkedHashMap<>(256, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Cached> eldest) {
      return size() > CACHE_SIZE;
    }
  };
  /** Loads under way, by key (guarded by the cache's lock): concurrent misses share one query. */
  private final Map<String, Future<Optional<FunctionRecord>>> loading = new java.util.HashMap<>();
  /** Bumped by each invalidation (under the cache's lock): a load that started before one does not fill the cache. */
  private long generation;

  /** A read, when the database last confirmed it, and until when it is served without asking again. */
  private record Cached(Optional<FunctionRecord> record, long confirmedAt, long freshUntil) {}

  private final long ttlNanos;

  public FunctionStore(Pool pool) {
    this(pool, DEFAULT_TTL_NANOS);
  }

  /** With a cache lifetime of its own (tests). */
  FunctionStore(Pool pool, long ttlNanos) {
    this.pool = pool;
    this.ttlNanos = ttlNanos;
  }

  private Future<Optional<FunctionRecord>> cached(String key, java.util.function.Supplier<Future<Optional<FunctionRecord>>> load) {
    long now = System.nanoTime();
    Cached stale;
    long startedIn;
    synchronized (cache) {
      stale = cache.get(key);
      if (stale != null && now - stale.freshUntil < 0) {
        return Future.succeededFuture(stale.record);
      }
      boolean servable = stale != null && now - stale.confirmedAt < STALE_IF_ERROR_NANOS;
      Future<Optional<FunctionRecord>> pending = loading.get(key);
      if (pending != null) {
        return servable ? Future.succeededFuture(stale.record) : pending;
      }
      startedIn = generation;
    }
    Future<Optional<FunctionRecord>> f = load.get();
    synchronized (cache) {
      if (!f.isComplete()) {
        loading.put(key, f);
      }
    }
    f.onComplete(ar -> {
      synchronized (cache) {
        loading.remove(key, f);
        if (startedIn != generation) {
          return;
        }
        if (ar.succeeded()) {
          cache.put(key, new Cached(ar.result(), now, now + ttlNanos));
        } else {
          Cached held = cache.get(key);
          if (held != null && System.nanoTime() - held.confirmedAt < STALE_IF_ERROR_NANOS) {
            cache.put(key, new Cached(held.record, held.confirmedAt, System.nanoTime() + RETRY_NANOS));
          }
        }
      }
    });
    if (stale != null && now - stale.confirmedAt < STALE_IF_ERROR_NANOS) {
      return Future.succeededFuture(stale.record);
    }
    return f;
  }

  /** Forgets cached reads of a name after this process changed it. */
  private void invalidate(String name) {
    synchronized (cache) {
      generation++;
      cache.keySet().removeIf(k -> k.substring(k.indexOf(':') + 1).startsWith(name + "/"));
      loading.keySet().removeIf(k -> k.substring(k.indexOf(':') + 1).startsWith(name + "/"));
    }
  }

  /**
   * Records a new version in state {@code verifying}. Without an explicit version the next integer is
   * taken; creates of one name are serialised, so concurrent deploys get distinct versions. An
   * explicit duplicate is a conflict.
   */
  public Future<FunctionRecord> create(FunctionSpec spec, String sha256, long bytes, String owner) {
    return create(spec, sha256, bytes, owner, 3);
  }

  private Future<FunctionRecord> create(FunctionSpec spec, String sha256, long bytes, String owner, int attempts) {
    String versionExpr = spec.version() == null
        ? "(SELECT COALESCE(MAX(version), 0) + 1 FROM functions WHERE name = $1)"
        : "$10";
    String sql = "INSERT INTO functions (name, version, kind, category, description, visibility, owner, spec, "
        + "model_sha256, model_bytes, state) VALUES ($1, " + versionExpr + ", $2, $3, $4, $5, $6, $7, $8, $9, 'verifying') "
        + "RETURNING " + COLUMNS;
    Tuple args = Tuple.of(spec.name(), spec.kind().wire(), spec.category(), spec.description(),
        spec.visibility().name().toLowerCase(java.util.Locale.ROOT), owner, spec.toJson(), sha256, bytes);
    if (spec.version() != null) {
      args.addInteger(spec.version());
    }
    // Each INSERT reads MAX(version) from its own snapshot, so without the lock N simultaneous
    // deploys of a name collide on the same number and a bounded retry cannot save them all.
    return pool.withTransaction(conn -> conn.preparedQuery("SELECT pg_advisory_xact_lock($1, hashtext($2))")
            .execute(Tuple.of(CREATE_LOCK_CLASS, spec.name()))
            .compose(locked -> conn.preparedQuery(sql).execute(args)))
        .map(rows -> map(rows.iterator().next()))
        .recover(err -> {
          if (err instanceof PgException pg && UNIQUE_VIOLATION.equals(pg.getSqlState())) {
            if (spec.version() != null) {
              return Future.failedFuture(new FunctionConflictException(
                  "function " + spec.name() + " already has version " + spec.version()));
            }
            if (attempts > 1) {
              return create(spec, sha256, bytes, owner, attempts - 1);
            }
          }
          return Future.failedFuture(err);
        });
  }

  /** The highest version of a name, whatever its state. */
  public Future<Optional<FunctionRecord>> latest(String name) {
    return one("SELECT " + COLUMNS + " FROM functions WHERE name = $1 ORDER BY version DESC LIMIT 1", Tuple.of(name));
  }

  /** The highest version of a name that is ready to serve. */
  public Future<Optional<FunctionRecord>> latestReady(String name) {
    return cached("ready:" + name + "/", () -> one("SELECT " + COLUMNS + " FROM functions WHERE name = $1 AND state = 'ready' ORDER BY version DESC LIMIT 1",
        Tuple.of(name)));
  }

  public Future<Optional<FunctionRecord>> version(String name, int version) {
    return cached("version:" + name + "/" + version, () ->
        one("SELECT " + COLUMNS + " FROM functions WHERE name = $1 AND version = $2", Tuple.of(name, version)));
  }

  public Future<List<FunctionRecord>> versions(String name) {
    return many("SELECT " + COLUMNS + " FROM functions WHERE name = $1 ORDER BY version DESC", Tuple.of(name));
  }

  /**
   * The latest version of each function matching the filters; {@code q} matches name, description
   * and use cases, case-insensitively. Null filters match everything.
   */
  public Future<List<FunctionRecord>> search(String q, String kind, String category) {
    return search(q, kind, category, null, true);
  }

  /**
   * Like {@link #search(String, String, String)}, as one tenant sees it: public functions and its own
   * ({@code everything} for admins).
   */
  public Future<List<FunctionRecord>> search(String q, String kind, String category, String tenant, boolean everything) {
    return search(q, kind, category, tenant, everything, false);
  }

  /**
   * Like {@link #search(String, String, String, String, boolean)}; with {@code mine}, only the functions
   * {@code tenant} owns (the platform's own when {@code tenant} is null).
   */
  public Future<List<FunctionRecord>> search(String q, String kind, String category, String tenant, boolean everything,
      boolean mine) {
    String like = q == null || q.isBlank() ? null : "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%";
    String sql = "SELECT DISTINCT ON (name) " + COLUMNS + " FROM functions WHERE "
        + "($1::text IS NULL OR name ILIKE $1 OR description ILIKE $1 OR (spec->>'use_cases') ILIKE $1) "
        + "AND ($2::text IS NULL OR kind = $2) AND ($3::text IS NULL OR category = $3) "
        + "AND ($4::boolean OR visibility = 'public' OR owner = $5) "
        + "AND (NOT $6::boolean OR owner IS NOT DISTINCT FROM $5) "
        + "ORDER BY name, version DESC LIMIT " + MAX_LIST;
    return many(sql, Tuple.of(like, kind, category, everything, tenant, mine));
  }

  /** The version each name serves now: its latest ready one. */
  public Future<List<FunctionRecord>> served() {
    return many("SELECT DISTINCT ON (name) " + COLUMNS + " FROM functions WHERE state = 'ready' ORDER BY name, version DESC",
        Tuple.tuple());
  }

  /** Versions left in {@code verifying}, e.g. by a gateway that stopped mid-verification. */
  public Future<List<FunctionRecord>> verifying() {
    return many("SELECT " + COLUMNS + " FROM functions WHERE state = 'verifying' ORDER BY created_at", Tuple.tuple());
  }

  /** Ends verification: the state, why, the report, and the signature the runtime reported. */
  public Future<Void> finishVerification(String name, int version, FunctionState state, String reason,
      JsonObject report, ModelSignature signature) {
    return pool.preparedQuery("UPDATE functions SET state = $3, state_reason = $4, report = $5, signature = $6, "
            + "updated_at = now() WHERE name = $1 AND version = $2")
        .execute(Tuple.of(name, version, state.wire(), reason, report, signature == null ? null : signature.toJson()))
        .onComplete(ar -> invalidate(name))
        .mapEmpty();
  }

  /**
   * Deletes one version, or every version when {@code version} is null. Returns how many rows went
   * and the model hashes no remaining version refers to (their blobs may be removed).
   */
  public Future<Deleted> delete(String name, Integer version) {
    return pool.<Deleted>withTransaction(conn -> conn
        .preparedQuery("DELETE FROM functions WHERE name = $1 AND ($2::int IS NULL OR version = $2) RETURNING model_sha256")
        .execute(Tuple.of(name, version))
        .compose(rows -> {
          List<String> hashes = new ArrayList<>();
          rows.forEach(r -> hashes.add(r.getString(0)));
          if (hashes.isEmpty()) {
            return Future.succeededFuture(new Deleted(0, List.of()));
          }
          return conn.preparedQuery("SELECT DISTINCT model_sha256 FROM functions WHERE model_sha256 = ANY($1)")
              .execute(Tuple.of(hashes.toArray(new String[0])))
              .map(still -> {
                List<String> orphans = new ArrayList<>(hashes.stream().distinct().toList());
                still.forEach(r -> orphans.remove(r.getString(0)));
                return new Deleted(hashes.size(), orphans);
              });
        })).onComplete(ar -> invalidate(name));
  }

  /** Result of {@link #delete}. */
  public record Deleted(int versions, List<String> orphanedModels) {}

  private Future<Optional<FunctionRecord>> one(String sql, Tuple args) {
    return pool.preparedQuery(sql).execute(args)
        .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(map(rows.iterator().next())));
  }

  private Future<List<FunctionRecord>> many(String sql, Tuple args) {
    return pool.preparedQuery(sql).execute(args).map(FunctionStore::mapAll);
  }

  private static List<FunctionRecord> mapAll(RowSet<Row> rows) {
    List<FunctionRecord> out = new ArrayList<>(rows.size());
    rows.forEach(r -> out.add(map(r)));
    return out;
  }

  private static FunctionRecord map(Row r) {
    JsonObject spec = (JsonObject) r.getValue("spec");
    JsonObject signature = (JsonObject) r.getValue("signature");
    return new FunctionRecord(
        FunctionSpec.fromJson(spec),
        r.getInteger("version"),
        r.getString("model_sha256"),
        r.getLong("model_bytes"),
        r.getString("owner"),
        FunctionState.fromWire(r.getString("state")),
        r.getString("state_reason"),
        (JsonObject) r.getValue("report"),
        signature == null ? null : ModelSignature.fromJson(signature),
        r.getOffsetDateTime("created_at"),
        r.getOffsetDateTime("updated_at"));
  }
}
