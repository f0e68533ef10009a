package io.inferium.chain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReceiptEpochTest {

  @Test
  void everyReceiptIsProvenAgainstTheEpochRoot() {
    List<Receipt> receipts = List.of(receipt("a"), receipt("b"), receipt("c"));
    ReceiptEpoch epoch = ReceiptEpoch.of(4, receipts);
    assertEquals(3, epoch.count());
    for (Receipt r : receipts) {
      ReceiptEpoch.Proven proven = epoch.proven(r.requestId()).orElseThrow();
      assertEquals(4, proven.epoch());
      assertTrue(proven.verifiesLocally());
    }
    assertTrue(epoch.proven("zzz").isEmpty());
  }

  @Test
  void aRequestAppearsOnceAndEpochsStartAtOne() {
    IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
        () -> ReceiptEpoch.of(1, List.of(receipt("a"), receipt("a"))));
    assertTrue(twice.getMessage().contains("twice"), twice.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ReceiptEpoch.of(0, List.of(receipt("a"))));
    assertThrows(IllegalArgumentException.class, () -> ReceiptEpoch.of(1, List.of()));
  }

  private static Receipt receipt(String id) {
    return new Receipt(id, "fn", 1, null, null, null, List.of("w-1"), "{}", null, 1, 10, Instant.EPOCH);
  }
}
