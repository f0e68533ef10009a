package io.inferium.chain.contracts;

import static io.inferium.chain.contracts.ChainFixture.tokens;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.math.BigInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.web3j.crypto.Credentials;

class InferiumTokenIT {

  private static ChainFixture chain;

  @BeforeAll
  static void start() throws Exception {
    chain = new ChainFixture();
  }

  @AfterAll
  static void stop() {
    if (chain != null) {
      chain.close();
    }
  }

  @Test
  void wholeSupplyIsMintedToTheTreasury() throws Exception {
    Credentials treasury = chain.anvil.fundedAccount();
    InferiumToken fresh = InferiumToken.deploy(chain.anvil.web3j(), chain.anvil.transactions(chain.admin),
        chain.anvil.gas(), "Inferium", "INF", treasury.getAddress(), tokens(5)).send();
    assertEquals(tokens(5), fresh.totalSupply().send());
    assertEquals(tokens(5), fresh.balanceOf(treasury.getAddress()).send());
    assertEquals(BigInteger.ZERO, fresh.balanceOf(chain.admin.getAddress()).send());
    assertEquals(BigInteger.valueOf(18), fresh.decimals().send());
  }

  @Test
  void aZeroTreasuryIsRefused() {
    assertThrows(Exception.class, () -> InferiumToken.deploy(chain.anvil.web3j(), chain.anvil.transactions(chain.admin),
        chain.anvil.gas(), "Inferium", "INF", "0x0000000000000000000000000000000000000000", tokens(5)).send());
  }

  @Test
  void burnLowersBalanceAndTotalSupply() throws Exception {
    Credentials holder = chain.accountWithTokens(tokens(100));
    BigInteger supplyBefore = chain.token.totalSupply().send();
    ChainFixture.send("burn", chain.token(holder).burn(tokens(40)));
    assertEquals(tokens(60), chain.balance(holder));
    assertEquals(supplyBefore.subtract(tokens(40)), chain.token.totalSupply().send());
  }

  @Test
  void nobodyBurnsMoreThanTheyHoldOrSomeoneElsesTokens() throws Exception {
    Credentials holder = chain.accountWithTokens(tokens(10));
    Credentials attacker = chain.accountWithTokens(BigInteger.ZERO);
    chain.assertReverts("ERC20InsufficientBalance(address,uint256,uint256)", chain.token(holder).burn(tokens(11)));
    chain.assertReverts("ERC20InsufficientAllowance(address,uint256,uint256)",
        chain.token(attacker).burnFrom(holder.getAddress(), tokens(1)));
    assertEquals(tokens(10), chain.balance(holder));
  }

  @Test
  void theRevertCheckTellsOneCustomErrorFromAnother() throws Exception {
    Credentials holder = chain.accountWithTokens(tokens(1));
    assertThrows(AssertionFailedError.class, () -> chain.assertReverts("ERC20InsufficientAllowance(address,uint256,uint256)",
        chain.token(holder).burn(tokens(2))));
  }

}
