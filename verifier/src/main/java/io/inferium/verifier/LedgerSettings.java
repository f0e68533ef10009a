package io.inferium.verifier;

/**
 * Economics of the verification network.
 *
 * @param initialStakeMicroUsd stake a newly seen local node starts with (until the chain issue syncs real stake)
 * @param slashMicroUsd        first slash; each later slash of the same node doubles
 * @param rewardMicroUsd       paid to each agreeing node per verified task
 * @param reputationWeight     weight of the newest observation in the exponentially weighted reputation
 * @param minReputation        below this a node is ejected
 * @param minStakeMicroUsd     below this a node is ejected
 */
public record LedgerSettings(long initialStakeMicroUsd, long slashMicroUsd, long rewardMicroUsd, double reputationWeight,
    double minReputation, long minStakeMicroUsd) {

  public static LedgerSettings defaults() {
    return new LedgerSettings(1_000_000, 50_000, 100, 0.2, 0.5, 1);
  }
}
