package io.inferium.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The rule that splits a node's credits between its gateways: never more than the node's in total. */
class NodeLinksTest {

  @Test
  void creditsAreSplitInOrderAndNeverExceedTheNodes() {
    assertArrayEquals(new int[] {4}, NodeLinks.shares(4, 1));
    assertArrayEquals(new int[] {2, 1}, NodeLinks.shares(3, 2));
    assertArrayEquals(new int[] {1, 1, 0}, NodeLinks.shares(2, 3), "fewer credits than gateways: the last get none");
    assertArrayEquals(new int[] {0, 0}, NodeLinks.shares(-5, 2), "a negative claim is no credit");
    for (int credits = 0; credits < 40; credits++) {
      for (int links = 1; links < 7; links++) {
        int[] s = NodeLinks.shares(credits, links);
        assertEquals(credits, Arrays.stream(s).sum(), credits + " over " + links);
        assertTrue(Arrays.stream(s).max().getAsInt() - Arrays.stream(s).min().getAsInt() <= 1, Arrays.toString(s));
      }
    }
  }
}
