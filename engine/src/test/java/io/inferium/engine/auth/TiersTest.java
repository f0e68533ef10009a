package io.inferium.engine.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class TiersTest {

  private static JsonObject table(String limits) {
    return new JsonObject("{\"tiers\": {\"basic\": " + limits + "}}");
  }

  private static String refusal(JsonObject json) {
    return assertThrows(IllegalArgumentException.class, () -> Tiers.fromJson(json)).getMessage();
  }

  @Test
  void builtInTableReads() throws IOException {
    Tiers tiers = Tiers.load(null);
    assertEquals("free", tiers.defaultTier().name());
    assertEquals(104857600L, tiers.defaultTier().storageBytes());
    assertEquals("pro", tiers.lifting("developer", Tier::gpuAccess).orElseThrow());
  }

  @Test
  void missingStorageNamesTheTierAndField() {
    String msg = refusal(table("{\"requests_per_minute\": 60}"));
    assertEquals("tiers: tier 'basic' lacks the required field 'storage_bytes'", msg);
  }

  @Test
  void mistypedAndOutOfRangeFieldsAreNamed() {
    assertTrue(refusal(table("{\"requests_per_minute\": \"60\", \"storage_bytes\": 1}"))
        .contains("field 'requests_per_minute': expected an integer, got '60'"));
    assertTrue(refusal(table("{\"requests_per_minute\": 0, \"storage_bytes\": 1}"))
        .contains("field 'requests_per_minute': expected an integer from 1"));
    assertTrue(refusal(table("{\"requests_per_minute\": 5, \"storage_bytes\": -1}"))
        .contains("field 'storage_bytes': expected a non-negative integer, got -1"));
    assertTrue(refusal(table("{\"requests_per_minute\": 5, \"storage_bytes\": 1, \"gpu_access\": \"yes\"}"))
        .contains("field 'gpu_access': expected true or false"));
    assertTrue(refusal(table("{\"requests_per_minute\": 5, \"storage_bytes\": 1.5}"))
        .contains("field 'storage_bytes': expected an integer, got 1.5"));
  }

  @Test
  void perModalityLimitsAreOptionalAndChecked() throws IOException {
    Tier free = Tiers.load(null).defaultTier();
    assertEquals(60, free.imagesPerMinute());
    assertEquals(300, free.mediaSecondsPerMinute());
    assertEquals(120, free.maxMediaSeconds());
    assertEquals(null, Tiers.load(null).get("enterprise").orElseThrow().maxMediaSeconds(), "enterprise: unlimited");
    Tier basic = Tiers.fromJson(table("{\"requests_per_minute\": 5, \"storage_bytes\": 1}")).defaultTier();
    assertEquals(null, basic.imagesPerMinute(), "a tier that says nothing does not limit it");
    assertEquals(null, basic.toJson().getValue("media_seconds_per_minute"));
    assertTrue(refusal(table("{\"requests_per_minute\": 5, \"storage_bytes\": 1, \"images_per_minute\": 0}"))
        .contains("field 'images_per_minute': expected an integer from 1"));
    assertTrue(refusal(table("{\"requests_per_minute\": 5, \"storage_bytes\": 1, \"max_media_seconds\": \"10\"}"))
        .contains("field 'max_media_seconds': expected an integer, got '10'"));
  }

  @Test
  void tableShapeErrorsAreNamed() {
    assertTrue(refusal(new JsonObject("{}")).contains("non-empty object 'tiers'"));
    assertTrue(refusal(new JsonObject("{\"tiers\": {\"a\": 3}}")).contains("tier 'a': expected an object"));
    JsonObject ok = table("{\"requests_per_minute\": 5, \"storage_bytes\": 1}");
    assertTrue(refusal(ok.copy().put("upgrade_order", new JsonArray().add("gold")))
        .contains("upgrade_order names 'gold'"));
    assertTrue(refusal(ok.copy().put("default_tier", "gold")).contains("default_tier 'gold' is not a tier"));
    Tiers tiers = Tiers.fromJson(ok);
    assertEquals(null, tiers.defaultTier().monthlyIncludedMicroUsd());
    assertEquals(3, tiers.defaultTier().maxRedundancy());
  }
}
