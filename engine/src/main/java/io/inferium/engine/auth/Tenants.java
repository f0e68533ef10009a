package io.inferium.engine.auth;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Tenants in PostgreSQL. */
public final class Tenants {

  /** A tenant and the tier whose limits apply to it. */
  public record Tenant(String id, String name, String tier, String createdAt) {
    public JsonObject toJson() {
      return new JsonObject().put("id", id).put("name", name).put("tier", tier).put("created_at", createdAt);
    }
  }

  /** A tenant id that already exists. */
  public static final class Exists extends RuntimeException {
    public Exists(String message) {
      super(message, null, false, false);
    }
  }

  private final Pool pool;

  public Tenants(Pool pool) {
    this.pool = pool;
  }

  public Future<Tenant> create(String id, String name, String tier) {
    return pool.preparedQuery("INSERT INTO tenants (id, name, tier) VALUES ($1, $2, $3) RETURNING id, name, tier, created_at")
        .execute(Tuple.of(id, name, tier))
        .map(rows -> map(rows.iterator().next()))
        .recover(err -> err instanceof PgException pg && "23505".equals(pg.getSqlState())
            ? Future.failedFuture(new Exists("tenant '" + id + "' already exists"))
            : Future.failedFuture(err));
  }

  /** Moves a tenant to another tier; empty when there is no such tenant. */
  public Future<Optional<Tenant>> setTier(String id, String tier) {
    return pool.preparedQuery("UPDATE tenants SET tier = $2 WHERE id = $1 RETURNING id, name, tier, created_at")
        .execute(Tuple.of(id, tier))
        .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(map(rows.iterator().next())));
  }

  public Future<Optional<Tenant>> get(String id) {
    return pool.preparedQuery("SELECT id, name, tier, created_at FROM tenants WHERE id = $1").execute(Tuple.of(id))
        .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(map(rows.iterator().next())));
  }

  public Future<List<Tenant>> list() {
    return pool.query("SELECT id, name, tier, created_at FROM tenants ORDER BY id").execute().map(rows -> {
      List<Tenant> out = new ArrayList<>();
      rows.forEach(r -> out.add(map(r)));
      return out;
    });
  }

  /**
   * Bytes of model files the tenant's function versions hold, counted once per version, plus the
   * example inputs their specs carry (as stored): the store keeps one copy of identical bytes, but a
   * quota that counted them once would let a tenant deploy the same model under any number of names for
   * the price of one.
   */
  public Future<Long> storageBytes(String tenantId) {
    return pool.preparedQuery("SELECT COALESCE(SUM(model_bytes + COALESCE(octet_length((spec -> 'examples')::text), 0)), 0)::bigint "
        + "FROM functions WHERE owner = $1")
        .execute(Tuple.of(tenantId)).map(rows -> rows.iterator().next().getLong(0));
  }

  private static Tenant map(Row r) {
    return new Tenant(r.getString("id"), r.getString("name"), r.getString("tier"),
        r.getOffsetDateTime("created_at").withOffsetSameInstant(ZoneOffset.UTC).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
  }
}
