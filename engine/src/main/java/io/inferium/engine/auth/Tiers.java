package io.inferium.engine.auth;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * The tier table: configuration, not code. The default is {@code tiers.json} in the jar; a file
 * given with {@code --tiers} replaces it.
 */
public final class Tiers {

  private final Map<String, Tier> tiers;
  private final List<String> upgradeOrder;
  private final String defaultTier;

  private Tiers(Map<String, Tier> tiers, List<String> upgradeOrder, String defaultTier) {
    this.tiers = tiers;
    this.upgradeOrder = upgradeOrder;
    this.defaultTier = defaultTier;
  }

  /** Reads the table; anything missing or mistyped is an {@link IllegalArgumentException} that names it. */
  public static Tiers fromJson(JsonObject json) {
    Map<String, Tier> tiers = new LinkedHashMap<>();
    if (!(json.getValue("tiers") instanceof JsonObject table) || table.isEmpty()) {
      throw new IllegalArgumentException("tiers: expected a non-empty object 'tiers' of tier name to limits");
    }
    for (String name : table.fieldNames()) {
      if (!(table.getValue(name) instanceof JsonObject limits)) {
        throw new IllegalArgumentException("tiers: tier '" + name + "': expected an object of limits");
      }
      tiers.put(name, Tier.fromJson(name, limits));
    }
    Object orderValue = json.getValue("upgrade_order");
    if (orderValue != null && !(orderValue instanceof JsonArray)) {
      throw new IllegalArgumentException("tiers: 'upgrade_order' must be an array of tier names");
    }
    List<String> order = orderValue == null ? List.copyOf(tiers.keySet())
        : ((JsonArray) orderValue).stream().map(String::valueOf).toList();
    for (String name : order) {
      if (!tiers.containsKey(name)) {
        throw new IllegalArgumentException("tiers: upgrade_order names '" + name + "', which is not a tier");
      }
    }
    String def = json.getValue("default_tier") instanceof String s ? s : order.isEmpty() ? null : order.get(0);
    if (def == null || !tiers.containsKey(def)) {
      throw new IllegalArgumentException("tiers: default_tier '" + def + "' is not a tier");
    }
    return new Tiers(tiers, order, def);
  }

  /** The built-in table, or the given file's. Blocking: call at start, off the event loop. */
  public static Tiers load(Path file) throws IOException {
    if (file != null) {
      return fromJson(new JsonObject(Files.readString(file, StandardCharsets.UTF_8)));
    }
    try (InputStream in = Tiers.class.getClassLoader().getResourceAsStream("tiers.json")) {
      return fromJson(new JsonObject(new String(in.readAllBytes(), StandardCharsets.UTF_8)));
    }
  }

  public Optional<Tier> get(String name) {
    return Optional.ofNullable(tiers.get(name));
  }

  public Tier defaultTier() {
    return tiers.get(defaultTier);
  }

  public List<String> names() {
    return List.copyOf(tiers.keySet());
  }

  /** The first tier above {@code current} that satisfies {@code enough}, for "upgrade to X" messages. */
  public Optional<String> lifting(String current, Predicate<Tier> enough) {
    int from = upgradeOrder.indexOf(current);
    for (int i = from + 1; i < upgradeOrder.size(); i++) {
      Tier t = tiers.get(upgradeOrder.get(i));
      if (t != null && enough.test(t)) {
        return Optional.of(t.name());
      }
    }
    return Optional.empty();
  }

  public JsonObject toJson() {
    JsonObject out = new JsonObject();
    tiers.forEach((k, v) -> out.put(k, v.toJson()));
    return out;
  }
}
