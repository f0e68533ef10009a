package io.inferium.verifier.consensus;

import io.inferium.functions.tensor.Tensor;
import io.inferium.verifier.Agreement;
import io.inferium.functions.seal.OutputHash;
import io.inferium.verifier.Similarity;
import java.util.List;

/** Tensor outputs compare by {@link Similarity} and stand in evidence as their {@link OutputHash}. */
public final class TensorAgreement implements Agreement<List<Tensor>> {

  public static final TensorAgreement INSTANCE = new TensorAgreement();

  private TensorAgreement() {}

  @Override
  public double similarity(List<Tensor> a, List<Tensor> b) {
    return Similarity.of(a, b);
  }

  @Override
  public String hash(List<Tensor> outputs) {
    return OutputHash.of(outputs);
  }
}
