package io.inferium.engine.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class MissBudgetTest {

  @Test
  void anAddressGetsItsBurstThenWaits() {
    MissBudget budget = new MissBudget(3, 0.001, 1000, 1000);
    for (int i = 0; i < 3; i++) {
      assertEquals(0, budget.admit("10.0.0.1"));
    }
    long wait = budget.admit("10.0.0.1");
    assertTrue(wait > 0, "the fourth unknown key waits");
    assertEquals(0, budget.admit("10.0.0.2"), "another address has its own bucket");
  }

  @Test
  void realKeysGiveTheirTokenBack() {
    MissBudget budget = new MissBudget(2, 0.001, 1000, 1000);
    for (int i = 0; i < 50; i++) {
      assertEquals(0, budget.admit("10.0.0.1"));
      budget.found("10.0.0.1");
    }
    assertEquals(0, budget.admit("10.0.0.1"));
  }

  @Test
  void theGlobalBucketCapsManyAddresses() {
    MissBudget budget = new MissBudget(5, 1, 10, 0.001);
    for (int i = 0; i < 10; i++) {
      assertEquals(0, budget.admit("10.0.0." + i));
    }
    assertTrue(budget.admit("10.0.1.1") > 0, "a fresh address still waits when the whole gateway's budget is spent");
  }

  @Test
  void theAddressMapIsBounded() {
    MissBudget budget = new MissBudget(1, 0.001, 1_000_000, 1_000_000);
    for (int i = 0; i < MissBudget.MAX_ADDRESSES * 2; i++) {
      budget.admit("a" + i);
    }
    assertTrue(budget.size() <= MissBudget.MAX_ADDRESSES);
  }
}
