package io.inferium.verifier;

/**
 * How two runs' outputs of one kind compare: a similarity from 0 (unrelated) to 1 (identical), and
 * the hash that stands for an output in the ledger's evidence. Tensor outputs have one; a text
 * verifier plugs in by providing another.
 *
 * @param <O> one run's outputs
 */
public interface Agreement<O> {

  /** How alike two outputs are, from 0 to 1; NaN is treated as 0. */
  double similarity(O a, O b);

  /** A digest of the output, cited as evidence (hex SHA-256 by convention). */
  String hash(O outputs);
}
