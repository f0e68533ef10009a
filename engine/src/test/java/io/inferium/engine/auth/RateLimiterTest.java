package io.inferium.engine.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RateLimiterTest {

  @Test
  void aGrantSaysWhatIsLeftAndWhenTheBucketIsFullAgain() {
    RateLimiter rates = new RateLimiter();
    RateLimiter.Grant first = rates.take("acme", 60);
    assertTrue(first.allowed());
    assertEquals(60, first.limit());
    assertEquals(59, first.remaining());
    assertEquals(1, first.resetSeconds(), "one request of 60/minute refills in a second");
    for (int i = 0; i < 59; i++) {
      assertTrue(rates.take("acme", 60).allowed(), "request " + (i + 2));
    }
    RateLimiter.Grant refused = rates.take("acme", 60);
    assertFalse(refused.allowed());
    assertEquals(0, refused.remaining());
    assertEquals(1, refused.retryAfterSeconds());
    assertTrue(refused.resetSeconds() >= 59 && refused.resetSeconds() <= 60, "a whole minute to refill: " + refused);
    assertEquals(59, rates.take("globex", 60).remaining(), "tenants have buckets of their own");
  }

  @Test
  void aTenantMovedToAHigherAllowanceHasTheDifferenceAtOnceAndALowerOneIsCappedAtIt() {
    RateLimiter rates = new RateLimiter();
    for (int i = 0; i < 5; i++) {
      assertTrue(rates.take("hooli", 5).allowed());
    }
    assertFalse(rates.take("hooli", 5).allowed(), "free's 5 a minute are spent");
    RateLimiter.Grant upgraded = rates.take("hooli", 1000);
    assertTrue(upgraded.allowed(), "moved to 1000 a minute: the 995 more are there at once, not 60 ms later");
    assertTrue(upgraded.remaining() >= 994, upgraded.toString());
    RateLimiter.Grant downgraded = rates.take("hooli", 5);
    assertTrue(downgraded.remaining() <= 4, "back at 5 a minute, no more than 5 are left: " + downgraded);
  }
}
