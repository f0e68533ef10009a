package io.inferium.chain.contracts;

import io.inferium.chain.testing.Anvil;
import io.inferium.chain.testing.GasReport;
import io.inferium.chain.testing.Reverts;
import java.math.BigInteger;
import org.web3j.crypto.Credentials;
import org.web3j.protocol.core.RemoteFunctionCall;
import org.web3j.protocol.core.methods.response.TransactionReceipt;

/** An Anvil node plus an admin account that holds the whole token supply (it is the treasury). */
final class ChainFixture implements AutoCloseable {

  static final BigInteger TOKEN = BigInteger.TEN.pow(18);
  static final BigInteger SUPPLY = tokens(1_000_000);

  final Anvil anvil;
  final Credentials admin;
  final InferiumToken token;

  ChainFixture() throws Exception {
    anvil = Anvil.start();
    try {
      admin = anvil.fundedAccount();
      token = GasReport.deployed("deploy InferiumToken", deploy(admin));
    } catch (Exception | Error e) {
      anvil.close();
      throw e;
    }
  }

  private InferiumToken deploy(Credentials treasury) throws Exception {
    return InferiumToken.deploy(anvil.web3j(), anvil.transactions(admin), anvil.gas(), "Inferium", "INF",
        treasury.getAddress(), SUPPLY).send();
  }

  static BigInteger tokens(long whole) {
    return TOKEN.multiply(BigInteger.valueOf(whole));
  }

  /** The token as seen (and signed for) by {@code who}. */
  InferiumToken token(Credentials who) {
    return InferiumToken.load(token.getContractAddress(), anvil.web3j(), anvil.transactions(who), anvil.gas());
  }

  /** A fresh account with ether for gas and {@code amount} tokens from the treasury. */
  Credentials accountWithTokens(BigInteger amount) throws Exception {
    Credentials account = anvil.fundedAccount();
    if (amount.signum() > 0) {
      token.transfer(account.getAddress(), amount).send();
    }
    return account;
  }

  BigInteger balance(Credentials who) throws Exception {
    return token.balanceOf(who.getAddress()).send();
  }

  /** See {@link Reverts#assertReverts}. */
  void assertReverts(String errorSignature, RemoteFunctionCall<TransactionReceipt> call) throws Exception {
    Reverts.assertReverts(anvil.web3j(), errorSignature, call);
  }

  static TransactionReceipt send(String operation, RemoteFunctionCall<TransactionReceipt> call) throws Exception {
    return GasReport.record(operation, call.send());
  }

  @Override
  public void close() {
    anvil.close();
  }
}
