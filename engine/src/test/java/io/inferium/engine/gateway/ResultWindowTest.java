package io.inferium.engine.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.tensor.DataType;
import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.seal.NodeKeys;
import io.inferium.functions.seal.OutputHash;
import io.inferium.functions.seal.ResultSeal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The gateway's side of sealed results: what it received against what the worker sealed. */
class ResultWindowTest {

  private static final String MODEL = "c".repeat(64);
  private final NodeKeys node = NodeKeys.generate();
  private final List<String> failures = new ArrayList<>();

  private ResultWindow window(String nonce) {
    return new ResultWindow(node.publicKey(), node.nodeId(), nonce, Runnable::run, failures::add);
  }

  private static List<Tensor> outputs(float value) {
    ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(value).putFloat(-value).flip();
    return List.of(new Tensor("y", DataType.FP32, new long[] {1, 2}, b));
  }

  private static ResultWindow.Received received(long id, float value, long nanos) {
    return new ResultWindow.Received(id, MODEL, outputs(value), null, nanos);
  }

  /** The worker's window over results {@code ids}, whose outputs were {@code id} as a float. */
  private static void add(ResultSeal.Window w, long... ids) {
    for (long id : ids) {
      w.add(id, MODEL, OutputHash.of(outputs(id)));
    }
  }

  @Test
  void honestSealsAreCheckedAndNothingFails() {
    ResultWindow gw = window("n1");
    ResultSeal.Window worker = new ResultSeal.Window(node, "n1");
    for (long id = 1; id <= 5; id++) {
      gw.received(received(id, id, System.nanoTime()));
      add(worker, id);
    }
    gw.sealed(worker.seal().orElseThrow());
    gw.received(received(6, 6, System.nanoTime()));
    add(worker, 6);
    gw.sealed(worker.seal().orElseThrow());
    assertEquals(List.of(), failures);
    assertEquals(2, gw.checked());
    assertEquals(0, gw.unsealed());
    assertEquals(Optional.empty(), gw.overdue(System.nanoTime() + TimeUnit.SECONDS.toNanos(5)), "nothing unsealed");
    // A generation's result is sealed over the token ids the gateway relayed.
    ResultWindow.Received gen = new ResultWindow.Received(7, MODEL, List.of(), List.of(new int[] {5, 6}, new int[] {}),
        System.nanoTime());
    gw.received(gen);
    worker.add(7, MODEL, OutputHash.ofTokens(List.of(new int[] {5, 6}, new int[] {})));
    gw.sealed(worker.seal().orElseThrow());
    assertEquals(List.of(), failures);
  }

  @Test
  void aGarbledResultFailsItsSeal() {
    ResultWindow gw = window("n1");
    ResultSeal.Window worker = new ResultSeal.Window(node, "n1");
    add(worker, 1, 2);
    gw.received(received(1, 1, System.nanoTime()));
    gw.received(received(2, 2.5f, System.nanoTime())); // not what the worker computed and sealed
    gw.sealed(worker.seal().orElseThrow());
    assertEquals(1, failures.size());
    assertTrue(failures.get(0).contains("hash to") && failures.get(0).contains("results [1,2]"), failures.get(0));
    gw.sealed(worker.seal().orElse(new ResultSeal.Sealed(1, 1, "00", "x")));
    assertEquals(1, failures.size(), "a link fails once");
  }

  @Test
  void aForgedSealFails() {
    ResultWindow gw = window("n1");
    ResultSeal.Window impostor = new ResultSeal.Window(NodeKeys.generate(), "n1");
    add(impostor, 1);
    gw.received(received(1, 1, System.nanoTime()));
    gw.sealed(impostor.seal().orElseThrow());
    assertTrue(failures.get(0).contains("does not verify"), failures.toString());
  }

  @Test
  void aSealThatOmitsOrReordersAResultFails() {
    ResultWindow omitted = window("n1");
    ResultSeal.Window worker = new ResultSeal.Window(node, "n1");
    add(worker, 1, 3);
    for (long id = 1; id <= 3; id++) {
      omitted.received(received(id, id, System.nanoTime()));
    }
    omitted.sealed(worker.seal().orElseThrow()); // covers two results: the gateway's first two are 1 and 2
    assertEquals(1, failures.size(), failures.toString());

    ResultWindow reordered = window("n2");
    ResultSeal.Window w2 = new ResultSeal.Window(node, "n2");
    add(w2, 2, 1);
    reordered.received(received(1, 1, System.nanoTime()));
    reordered.received(received(2, 2, System.nanoTime()));
    reordered.sealed(w2.seal().orElseThrow());
    assertEquals(2, failures.size(), failures.toString());

    ResultWindow tooMany = window("n3");
    ResultSeal.Window w3 = new ResultSeal.Window(node, "n3");
    add(w3, 1, 2);
    tooMany.received(received(1, 1, System.nanoTime()));
    tooMany.sealed(w3.seal().orElseThrow());
    assertTrue(failures.get(2).contains("covers 2 results; the gateway received 1"), failures.toString());
  }

  @Test
  void aSealMissingPastTheBoundFails() {
    ResultWindow gw = window("n1");
    long t0 = System.nanoTime();
    gw.received(received(1, 1, t0));
    assertEquals(Optional.empty(), gw.overdue(t0 + TimeUnit.MILLISECONDS.toNanos(ResultWindow.MAX_UNSEALED_MS - 1)));
    assertTrue(gw.overdue(t0 + TimeUnit.MILLISECONDS.toNanos(ResultWindow.MAX_UNSEALED_MS + 1)).orElseThrow()
        .contains("still unsealed"));
    assertEquals(1, failures.size(), "reported once: " + failures);
    assertEquals(Optional.empty(), gw.overdue(t0 + TimeUnit.SECONDS.toNanos(5)), "a failed link is not reported again");
    failures.clear();
    // By count: a worker that never seals under load is cut off without waiting for the clock.
    ResultWindow flood = window("n2");
    for (int i = 1; i <= ResultWindow.MAX_UNSEALED; i++) {
      flood.received(received(i, i, t0));
    }
    assertEquals(List.of(), failures);
    flood.received(received(ResultWindow.MAX_UNSEALED + 1, 0, t0));
    assertTrue(failures.get(0).contains("without a seal"), failures.toString());
  }

  @Test
  void aSealReplayedFromAnotherLinkFails() {
    ResultSeal.Window onA = new ResultSeal.Window(node, "link-A");
    add(onA, 1);
    ResultSeal.Sealed sealA = onA.seal().orElseThrow();
    ResultWindow linkB = window("link-B"); // same node, same result, another connection
    linkB.received(received(1, 1, System.nanoTime()));
    linkB.sealed(sealA);
    assertTrue(failures.get(0).contains("does not verify"), failures.toString());
    // And replayed on its own link, after the next result: out of sequence.
    ResultWindow linkA = window("link-A");
    linkA.received(received(1, 1, System.nanoTime()));
    linkA.sealed(sealA);
    linkA.received(received(1, 1, System.nanoTime()));
    linkA.sealed(sealA);
    assertTrue(failures.get(1).contains("seal 1 was due"), failures.toString());
  }
}
