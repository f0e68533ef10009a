package io.inferium.engine.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import org.junit.jupiter.api.Test;

/** Two gateways on one machine never hand the same worker uid to two live workers. */
class WorkerUidsTest {

  // A base no real worker uses, so claiming kills nothing.
  private static final int BASE = 3_000_000 + (int) (ProcessHandle.current().pid() % 100_000) * 10;

  @Test
  void aUidHeldByOneGatewayIsSkippedByAnotherAndReusedOnceReleased() throws Exception {
    WorkerUids one = new WorkerUids(BASE, true);
    WorkerUids other = new WorkerUids(BASE, true);
    int a = one.claim();
    int b = other.claim();
    assertEquals(1, a);
    assertNotEquals(a, b, "the second gateway must not get the first one's uid");
    assertEquals(BASE + b, other.uid(b));
    int c = one.claim();
    assertNotEquals(b, c);
    one.stopLeftovers(a, "w1");
    one.release(a);
    assertEquals(a, other.claim(), "a released uid is free again");
    other.release(b);
    one.release(c);
  }

  @Test
  void withoutUidsOfTheirOwnSlotsOnlyNameScratchDirectories() throws Exception {
    WorkerUids plain = new WorkerUids(BASE, false);
    assertEquals(1, plain.claim());
    assertEquals(2, plain.claim());
    assertEquals(-1, plain.uid(1));
  }
}
