package io.inferium.node;

import io.inferium.functions.protocol.TokensFrame;
import io.inferium.functions.tensor.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * For tests only: a worker that misbehaves. Faults, separated by {@code ;}:
 * <ul>
 *   <li>{@code noise:P} (the verification network's tests): a fraction P of runs come back perturbed:
 *       floating-point outputs negated plus noise (so even cosine similarity, blind to scale, sees them
 *       differ), integer outputs off by one (a wrong class). Seeded by node id, so runs are reproducible.
 *   <li>{@code probe-read:PATH[,PATH…]} (the sandbox's tests): at start the worker tries to read each
 *       path, as a hostile model would, and logs {@code TEST FAULT probe-read PATH: readable|denied …}.
 *   <li>{@code alloc-mib:N:SHA256} (the memory limit's tests): each run of the model with that hash first
 *       allocates and touches N MiB of native memory and holds it for up to 30 s, like a memory bomb.
 *   <li>{@code slow-ms:N} (the credits' and drain tests): each run takes N ms longer, so calls overlap.
 *   <li>{@code garble-results}, {@code forge-seals}, {@code withhold-seals} (the result seals' tests): each
 *       RESULT's first output byte is flipped after it was hashed and sealed (what a lying worker or a
 *       tampered link would deliver); seals carry a signature by no key; no seal is ever sent.
 *   <li>{@code lie-tokens} (text verification's tests): every generated token id is changed (to the one
 *       below it) and its text to {@code [lie]}, in the streamed tokens and in the hash the node signs alike:
 *       a consistent, sealed lie that only a comparison with other nodes can catch.
 * </ul>
 */
final class FaultInjector {

  private static final Logger log = LoggerFactory.getLogger(FaultInjector.class);

  private double fraction;
  private final Random random;
  private final List<String> probes = new ArrayList<>();
  private long allocBytes;
  private String allocSha;
  private boolean garbleResults;
  private boolean forgeSeals;
  private boolean withholdSeals;
  private boolean lieTokens;
  private long slowMs;

  private FaultInjector(Random random) {
    this.random = random;
  }

  static FaultInjector parse(String spec, String nodeId) {
    FaultInjector f = new FaultInjector(new Random(nodeId.hashCode()));
    if (spec == null || spec.isBlank()) {
      return f;
    }
    for (String one : spec.split(";")) {
      if (one.startsWith("noise:")) {
        f.fraction = Double.parseDouble(one.substring("noise:".length()));
        log.warn("TEST FAULT: worker {} perturbs {}% of its results", nodeId, Math.round(f.fraction * 100));
      } else if (one.startsWith("probe-read:")) {
        f.probes.addAll(List.of(one.substring("probe-read:".length()).split(",")));
      } else if (one.startsWith("alloc-mib:")) {
        String[] parts = one.split(":");
        f.allocBytes = Long.parseLong(parts[1]) << 20;
        f.allocSha = parts[2];
        log.warn("TEST FAULT: worker {} allocates {} MiB on each run of {}", nodeId, parts[1], f.allocSha);
      } else if (one.startsWith("slow-ms:")) {
        f.slowMs = Long.parseLong(one.substring("slow-ms:".length()));
        log.warn("TEST FAULT: worker {} takes {} ms more for each run", nodeId, f.slowMs);
      } else if (one.equals("garble-results") || one.equals("forge-seals") || one.equals("withhold-seals")) {
        f.garbleResults |= one.equals("garble-results");
        f.forgeSeals |= one.equals("forge-seals");
        f.withholdSeals |= one.equals("withhold-seals");
        log.warn("TEST FAULT: worker {} {}", nodeId, one);
      } else if (one.equals("lie-tokens")) {
        f.lieTokens = true;
        log.warn("TEST FAULT: worker {} changes every token it generates", nodeId);
      } else {
        throw new IllegalArgumentException("--test-fault: expected noise:P, probe-read:PATHS, alloc-mib:N:SHA256, "
            + "slow-ms:N, garble-results, forge-seals, withhold-seals or lie-tokens, got " + one);
      }
    }
    return f;
  }

  private static int lie(int id) {
    return id == 0 ? 1 : id - 1;
  }

  /** A decode step's tokens, lied about under lie-tokens. */
  List<TokensFrame.Token> tokens(List<TokensFrame.Token> tokens) {
    if (!lieTokens) {
      return tokens;
    }
    return tokens.stream().map(t -> new TokensFrame.Token(t.requestId(), t.choice(), lie(t.id()), "[lie]", t.promptTokens()))
        .toList();
  }

  /** A finished generation's token ids per choice, lied about as {@link #tokens} lied about them. */
  List<int[]> ids(List<int[]> ids) {
    if (!lieTokens) {
      return ids;
    }
    return ids.stream().map(a -> java.util.Arrays.stream(a).map(FaultInjector::lie).toArray()).toList();
  }

  /** Tries to read each probed path and logs what happened. */
  void probe() {
    for (String path : probes) {
      String outcome;
      try {
        java.nio.file.Path p = java.nio.file.Path.of(path);
        outcome = java.nio.file.Files.isDirectory(p)
            ? "readable (a directory of " + java.nio.file.Files.list(p).count() + " entries)"
            : "readable (" + java.nio.file.Files.readAllBytes(p).length + " bytes)";
      } catch (java.io.IOException | RuntimeException e) {
        outcome = "denied (" + e.getClass().getSimpleName() + ")";
      }
      log.warn("TEST FAULT probe-read {}: {}", path, outcome);
    }
  }

  /** Before a run of {@code sha256}: the memory bomb, held until the run is cancelled or 30 s passed. */
  void beforeRun(String sha256, io.inferium.functions.runtime.Cancellation cancellation) {
    if (slowMs > 0) {
      try {
        Thread.sleep(slowMs);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (allocBytes <= 0 || !sha256.equals(allocSha)) {
      return;
    }
    List<ByteBuffer> held = new ArrayList<>();
    for (long done = 0; done < allocBytes; done += 16 << 20) {
      ByteBuffer b = ByteBuffer.allocateDirect(16 << 20);
      for (int i = 0; i < b.capacity(); i += 4096) {
        b.put(i, (byte) 1);
      }
      held.add(b);
    }
    long until = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
    while (System.nanoTime() < until && !cancellation.cancelled()) {
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    log.warn("TEST FAULT: released {} buffers", held.size());
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

  /** The RESULT as sent: with {@code garble-results}, a copy whose first output byte is flipped (after it was sealed). */
  io.inferium.functions.protocol.Frame garble(io.inferium.functions.protocol.Frame result) {
    if (!garbleResults || result.tensors().isEmpty() || result.tensors().get(0).byteSize() == 0) {
      return result;
    }
    List<Tensor> out = new ArrayList<>(result.tensors());
    Tensor first = out.get(0);
    byte[] bytes = first.bytes();
    bytes[0] ^= 1;
    out.set(0, new Tensor(first.name(), first.type(), first.shape(), ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN)));
    return new io.inferium.functions.protocol.Frame(result.type(), result.correlationId(), result.meta(), out);
  }

  /** The seal as sent: null with {@code withhold-seals}, signed by no key with {@code forge-seals}. */
  io.inferium.functions.seal.ResultSeal.Sealed seal(io.inferium.functions.seal.ResultSeal.Sealed seal) {
    if (withholdSeals) {
      return null;
    }
    if (forgeSeals) {
      byte[] junk = new byte[64];
      random.nextBytes(junk);
      return new io.inferium.functions.seal.ResultSeal.Sealed(seal.seq(), seal.count(), seal.root(),
          java.util.Base64.getEncoder().encodeToString(junk));
    }
    return seal;
  }
}
