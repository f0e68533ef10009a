package io.inferium.engine.worker;

import io.inferium.functions.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * For tests of the verification network only: a worker that lies. With {@code noise:P} a fraction P
 * of runs come back perturbed: floating-point outputs negated plus noise (so even cosine similarity,
 * blind to scale, sees them differ), integer outputs off by one (a wrong class). Seeded by node id,
 * so runs are reproducible.
 */
final class FaultInjector {

  private static final Logger log = LoggerFactory.getLogger(FaultInjector.class);

  private final double fraction;
  private final Random random;

  private FaultInjector(double fraction, Random random) {
    this.fraction = fraction;
    this.random = random;
  }

  static FaultInjector parse(String spec, String nodeId) {
    if (spec == null || spec.isBlank()) {
      return new FaultInjector(0, null);
    }
    if (!spec.startsWith("noise:")) {
      throw new IllegalArgumentException("--test-fault: expected noise:P with P in [0, 1], got " + spec);
    }
    double p = Double.parseDouble(spec.substring("noise:".length()));
    log.warn("TEST FAULT: worker {} perturbs {}% of its results", nodeId, Math.round(p * 100));
    return new FaultInjector(p, new Random(nodeId.hashCode()));
  }

  synchronized List<Tensor> apply(List<Tensor> outputs) {
    if (fraction <= 0 || random.nextDouble() >= fraction) {
      return outputs;
    }
    List<Tensor> out = new ArrayList<>(outputs.size());
    for (Tensor t : outputs) {
      out.add(perturb(t));
    }
    return out;
  }

  private Tensor perturb(Tensor t) {
    ByteBuffer src = t.view();
    ByteBuffer dst = ByteBuffer.allocate(src.remaining()).order(ByteOrder.LITTLE_ENDIAN);
    switch (t.type()) {
      case FP32 -> {
        while (src.hasRemaining()) {
          dst.putFloat(-src.getFloat() + random.nextFloat());
        }
      }
      case FP64 -> {
        while (src.hasRemaining()) {
          dst.putDouble(-src.getDouble() + random.nextDouble());
        }
      }
      case INT64, UINT64 -> {
        while (src.hasRemaining()) {
          dst.putLong(src.getLong() + 1);
        }
      }
      case INT32, UINT32 -> {
        while (src.hasRemaining()) {
          dst.putInt(src.getInt() + 1);
        }
      }
      default -> {
        while (src.hasRemaining()) {
          dst.put((byte) (src.get() ^ 1));
        }
      }
    }
    return new Tensor(t.name(), t.type(), t.shape(), dst.flip());
  }
}
