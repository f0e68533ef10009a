package io.inferium.engine.gateway;

import io.vertx.core.json.JsonObject;

/**
 * A remote node's tier, from the capabilities it measured and reported:
 * <ul>
 *   <li>{@code high}: a GPU with at least {@value #HIGH_GPU_GIB} GiB of memory;</li>
 *   <li>{@code mid}: any other GPU, or at least {@value #MID_CORES} cores and {@value #MID_MEMORY_GIB} GiB of memory;</li>
 *   <li>{@code low}: everything else.</li>
 * </ul>
 * Claims are not proven; a node that claims more than it has is slow or fails, and verification and its
 * ledger judge that.
 */
public enum NodeTier {
  HIGH, MID, LOW;

  static final long HIGH_GPU_GIB = 24;
  static final int MID_CORES = 16;
  static final long MID_MEMORY_GIB = 32;

  public static NodeTier of(JsonObject capabilities) {
    Object gpu = capabilities.getValue("gpu");
    if (gpu instanceof JsonObject g) {
      long memory = g.getValue("memory_bytes") instanceof Number n ? n.longValue() : 0;
      return memory >= HIGH_GPU_GIB << 30 ? HIGH : MID;
    }
    long cores = capabilities.getValue("cores") instanceof Number n ? n.longValue() : 0;
    long memory = capabilities.getValue("memory_bytes") instanceof Number n ? n.longValue() : 0;
    return cores >= MID_CORES && memory >= MID_MEMORY_GIB << 30 ? MID : LOW;
  }

  public String label() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
