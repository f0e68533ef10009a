package io.inferium.engine.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

class NodeTierTest {

  private static JsonObject caps(int cores, long memoryGib, Object gpu) {
    return new JsonObject().put("cores", cores).put("memory_bytes", memoryGib << 30).put("gpu", gpu);
  }

  private static JsonObject gpu(long gib) {
    return new JsonObject().put("name", "test GPU").put("memory_bytes", gib << 30);
  }

  @Test
  void theDocumentedRule() {
    assertEquals(NodeTier.HIGH, NodeTier.of(caps(8, 64, gpu(24))));
    assertEquals(NodeTier.HIGH, NodeTier.of(caps(8, 64, gpu(80))));
    assertEquals(NodeTier.MID, NodeTier.of(caps(8, 64, gpu(16))));
    assertEquals(NodeTier.MID, NodeTier.of(caps(16, 32, "none")));
    assertEquals(NodeTier.LOW, NodeTier.of(caps(16, 31, "none")));
    assertEquals(NodeTier.LOW, NodeTier.of(caps(15, 256, "none")));
    assertEquals(NodeTier.LOW, NodeTier.of(new JsonObject()));
    // Junk where numbers belong claims nothing.
    assertEquals(NodeTier.LOW, NodeTier.of(new JsonObject().put("cores", "many").put("memory_bytes", "lots").put("gpu", "none")));
    assertEquals(NodeTier.MID, NodeTier.of(caps(1, 1, new JsonObject().put("memory_bytes", "huge"))));
  }
}
