package io.inferium.node;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * What a node measures of itself for its hello: cores, memory, the execution device ONNX Runtime
 * actually started with and, when that is CUDA, the GPU's model and memory. A gateway trusts none of
 * it for money (verification does that), only for placing work and assigning a tier.
 */
final class NodeCapabilities {

  private NodeCapabilities() {}

  static JsonObject measure(String device, int slots) {
    long memory = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getTotalMemorySize();
    JsonObject caps = new JsonObject()
        .put("cores", Runtime.getRuntime().availableProcessors())
        .put("memory_bytes", memory)
        .put("device", device)
        .put("slots", slots);
    JsonObject gpu = device != null && device.toUpperCase(java.util.Locale.ROOT).startsWith("CUDA") ? gpu() : null;
    caps.put("gpu", gpu == null ? "none" : gpu);
    return caps;
  }

  /** The first GPU's name and memory from {@code nvidia-smi}, or null when it is missing or says nothing usable. */
  private static JsonObject gpu() {
    try {
      Process p = new ProcessBuilder("nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader,nounits")
          .redirectErrorStream(true).start();
      if (!p.waitFor(10, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return null;
      }
      String line = new String(p.getInputStream().readNBytes(4096), StandardCharsets.UTF_8).lines().findFirst().orElse("");
      int comma = line.lastIndexOf(',');
      if (p.exitValue() != 0 || comma < 0) {
        return null;
      }
      long mib = Long.parseLong(line.substring(comma + 1).strip());
      return new JsonObject().put("name", line.substring(0, comma).strip()).put("memory_bytes", mib << 20);
    } catch (IOException | NumberFormatException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }
}
