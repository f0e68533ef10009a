package io.inferium.chain;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.chain.merkle.MerkleTree;
import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PayoutEpochTest {

  private static final String A = "0x00000000000000000000000000000000000000aA";
  private static final String B = "0x00000000000000000000000000000000000000bb";

  @Test
  void totalsFundingAndProofsPerAccount() {
    PayoutEpoch epoch = PayoutEpoch.of(2, Map.of(A, BigInteger.valueOf(70), B, BigInteger.valueOf(20)), BigInteger.TEN);
    assertEquals(BigInteger.valueOf(90), epoch.payoutTotal());
    assertEquals(BigInteger.valueOf(100), epoch.funding());
    assertEquals(BigInteger.valueOf(70), epoch.amountOf(A.toUpperCase().replace("0X", "0x")).orElseThrow());
    assertTrue(MerkleTree.verify(epoch.root(), PayoutEpoch.leaf(A.toLowerCase(), BigInteger.valueOf(70)),
        epoch.proofFor(A).orElseThrow()));
    assertTrue(epoch.proofFor("0x00000000000000000000000000000000000000cc").isEmpty());
  }

  @Test
  void badPayoutsAreRefusedWithAReason() {
    Map<String, BigInteger> twice = new LinkedHashMap<>();
    twice.put(A, BigInteger.ONE);
    twice.put(A.toLowerCase(), BigInteger.TWO);
    assertTrue(assertThrows(IllegalArgumentException.class, () -> PayoutEpoch.of(1, twice, BigInteger.ZERO))
        .getMessage().contains("twice"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> PayoutEpoch.of(1, Map.of("0x1234", BigInteger.ONE), BigInteger.ZERO)).getMessage().contains("account"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> PayoutEpoch.of(1, Map.of(A, BigInteger.ZERO), BigInteger.ZERO)).getMessage().contains("amount"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> PayoutEpoch.of(1, Map.of(A, BigInteger.ONE), BigInteger.valueOf(-1))).getMessage().contains("platformShare"));
    assertThrows(IllegalArgumentException.class, () -> PayoutEpoch.of(0, Map.of(A, BigInteger.ONE), BigInteger.ZERO));
    assertThrows(IllegalArgumentException.class, () -> PayoutEpoch.of(1, Map.of(), BigInteger.ZERO));
  }
}
