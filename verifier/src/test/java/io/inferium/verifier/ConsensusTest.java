package io.inferium.verifier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.inferium.functions.tensor.Tensor;
import io.inferium.functions.tensor.Tensors;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConsensusTest {

  private static List<Tensor> out(float... v) {
    return List.of(Tensors.fp32("y", new long[] {v.length}, v));
  }

  @Test
  void cosineToleratesRoundingButNotDisagreement() {
    assertEquals(1.0, Similarity.of(out(1, 2, 3), out(1, 2, 3)), 1e-12);
    assertTrue(Similarity.of(out(1, 2, 3), out(1.000001f, 2, 3)) > 0.9999);
    assertTrue(Similarity.of(out(1, 2, 3), out(3, 2, 1)) < 0.8);
    assertEquals(1 / 99.0, Similarity.of(out(1, 2, 3), out(99, 198, 297)), 1e-9,
        "an answer scaled by 99 points the same way but is not the same answer: it scores 1/99");
    assertTrue(Similarity.of(out(3), out(3.5f)) < 0.9, "a one-element output is not judged by its sign alone");
    assertTrue(Similarity.of(out(1, 2, 3), out(1.000001f, 2.000002f, 3.000003f)) > 0.9999,
        "the length moved by rounding noise alone still agrees");
    assertEquals(0.0, Similarity.of(out(1, 2, 3), out(1, 2)), "different shapes never agree");
    List<Tensor> labels = List.of(Tensors.int64("label", new long[] {2}, 0, 2));
    assertEquals(1.0, Similarity.of(labels, List.of(Tensors.int64("label", new long[] {2}, 0, 2))));
    assertEquals(0.0, Similarity.of(labels, List.of(Tensors.int64("label", new long[] {2}, 0, 1))),
        "integers agree exactly or not at all");
  }

  @Test
  void theMajorityGroupWinsAndTheOutlierIsNamed() {
    Consensus.Verdict v = Consensus.decide(List.of(out(1, 2, 3), out(9, 0, 1), out(1, 2, 3.0000005f)), 0.999);
    assertEquals(Consensus.Kind.VERIFIED, v.kind());
    assertEquals(List.of(0, 2), v.agreeing());
    assertEquals(List.of(1), v.outliers());
    assertTrue(v.similarity() > 0.999);
  }

  @Test
  void noMajorityIsADisputeAndOneRunIsUnverified() {
    assertEquals(Consensus.Kind.DISPUTED, Consensus.decide(List.of(out(1, 0, 0), out(0, 1, 0), out(0, 0, 1)), 0.99).kind());
    assertEquals(Consensus.Kind.DISPUTED, Consensus.decide(List.of(out(1, 0), out(0, 1)), 0.99).kind(),
        "two runs that disagree have no majority");
    Consensus.Verdict single = Consensus.decide(List.of(out(1, 2)), 0.99);
    assertEquals(Consensus.Kind.UNVERIFIED, single.kind());
    assertEquals(List.of(0), single.agreeing());
  }
}
