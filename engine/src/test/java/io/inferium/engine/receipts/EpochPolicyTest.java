package io.inferium.engine.receipts;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The epoch closer's decisions: N receipts or T seconds, how often it looks, and the anchoring backoff. */
class EpochPolicyTest {

  private final EpochPolicy policy = new EpochPolicy(100, 60_000);

  @Test
  void closesAtNReceiptsWhateverTheirAge() {
    assertTrue(policy.shouldClose(100, 0));
    assertTrue(policy.shouldClose(250, 5));
    assertFalse(policy.shouldClose(99, 59_999));
  }

  @Test
  void closesOnceTheOldestWaitingReceiptIsTOldEvenIfAlone() {
    assertTrue(policy.shouldClose(1, 60_000));
    assertTrue(policy.shouldClose(99, 120_000));
  }

  @Test
  void neverClosesAnEmptyEpoch() {
    assertFalse(policy.shouldClose(0, 0));
    assertFalse(policy.shouldClose(0, Long.MAX_VALUE));
  }

  @Test
  void looksAQuarterOfTBetween50MsAnd1s() {
    assertEquals(1_000, policy.tickMs());
    assertEquals(75, new EpochPolicy(10, 300).tickMs());
    assertEquals(50, new EpochPolicy(10, 1).tickMs());
  }

  @Test
  void backoffDoublesFromTheMinimumAndStopsAtTheMaximum() {
    assertEquals(100, EpochPolicy.backoffMs(1, 100, 5_000));
    assertEquals(200, EpochPolicy.backoffMs(2, 100, 5_000));
    assertEquals(3_200, EpochPolicy.backoffMs(6, 100, 5_000));
    assertEquals(5_000, EpochPolicy.backoffMs(7, 100, 5_000));
    assertEquals(5_000, EpochPolicy.backoffMs(1_000, 100, 5_000), "no overflow after many failures");
    assertEquals(100, EpochPolicy.backoffMs(0, 100, 5_000));
  }

  @Test
  void settingsRefuseNonsenseNamingTheFlag() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ReceiptSettings.defaults().withEpoch(0, 1_000));
    assertTrue(e.getMessage().contains("--receipt-epoch-size"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new ReceiptSettings.Chain("ftp://x", java.nio.file.Path.of("k"),
        java.nio.file.Path.of("d"), 1, 1_000));
    assertTrue(e.getMessage().contains("--chain-rpc"), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new ReceiptSettings.Chain("http://x", java.nio.file.Path.of("k"),
        java.nio.file.Path.of("d"), 0, 1_000));
    assertTrue(e.getMessage().contains("--chain-confirmations"), e.getMessage());
  }
}
