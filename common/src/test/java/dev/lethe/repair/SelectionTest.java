package dev.lethe.repair;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SelectionTest {
  static final long[] IDS = {50, 40, 30, 20, 10};
  static final double[] SCORES = {3.0, 1.0, 1.0, 0.0, -2.0};

  @Test
  void positiveTakesStrictlyPositiveScores() {
    assertThat(Selection.positive().select(IDS, SCORES)).containsExactly(50, 40, 30);
    // no positive score: empty C (repairs that erase C are then no-ops)
    assertThat(Selection.positive().select(IDS, new double[] {0, 0, -1, -1, -5})).isEmpty();
    assertThat(Selection.positive().select(new long[0], new double[0])).isEmpty();
  }

  @Test
  void topKTakesTheFirstKAndAllWhenKExceedsN() {
    assertThat(Selection.topK(2).select(IDS, SCORES)).containsExactly(50, 40);
    // ties at the cut follow the given order
    assertThat(Selection.topK(3).select(IDS, SCORES)).containsExactly(50, 40, 30);
    assertThat(Selection.topK(1000).select(IDS, SCORES)).containsExactly(50, 40, 30, 20, 10);
    assertThat(Selection.topK(3).select(new long[0], new double[0])).isEmpty();
  }

  @Test
  void topFractionTakesTheCeilingWithoutRoundingArtefacts() {
    assertThat(Selection.topFraction(0.15).limit(100)).isEqualTo(15);   // 0.15 * 100 = 15.000000000000002
    assertThat(Selection.topFraction(0.15).limit(20)).isEqualTo(3);     // 3.0000000000000004
    assertThat(Selection.topFraction(0.15).limit(3000)).isEqualTo(450);
    assertThat(Selection.topFraction(0.15).limit(7)).isEqualTo(2);      // ceil(1.05)
    assertThat(Selection.topFraction(0.01).limit(5)).isEqualTo(1);      // any positive fraction takes >= 1 row
    assertThat(Selection.topFraction(1.0).limit(5)).isEqualTo(5);
    assertThat(Selection.topFraction(0.15).limit(0)).isEqualTo(0);
    assertThat(Selection.topFraction(0.5).select(IDS, SCORES)).containsExactly(50, 40, 30);
    // the paper's protocol is the top 15%
    assertThat(Selection.paper().policy()).isEqualTo(SelectionPolicy.TOP_FRACTION);
    assertThat(Selection.paper().fraction()).isEqualTo(0.15);
  }

  @Test
  void rejectsBadRankingsAndOptionsNamingTheKey() {
    assertThatThrownBy(() -> Selection.topK(2).select(IDS, new double[] {1, 2, 0, 0, 0}))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("sorted");
    assertThatThrownBy(() -> Selection.topK(2).select(IDS, new double[] {1, Double.NaN, 0, 0, 0}))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("NaN");
    assertThatThrownBy(() -> Selection.topK(2).select(IDS, new double[] {1}))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Selection.topK(0)).hasMessageContaining("repair.top-k");
    assertThatThrownBy(() -> Selection.topFraction(0)).hasMessageContaining("repair.top-fraction");
    assertThatThrownBy(() -> Selection.topFraction(1.5)).hasMessageContaining("repair.top-fraction");
    assertThatThrownBy(() -> SelectionPolicy.parse("top-n")).hasMessageContaining("repair.selection")
        .hasMessageContaining("top-fraction");
    assertThat(SelectionPolicy.parse(" Top-K ")).isEqualTo(SelectionPolicy.TOP_K);
  }

  @Test
  void negativeTakesTheExamplesOfNegativeValueFromValueTablesOnly() {
    Selection negative = new Selection(SelectionPolicy.parse("negative"), 1, 0.15);
    // value tables hold score = -value: values -0.3, -0.1, 0, 0.2, 0.5
    assertThat(negative.select(IDS, new double[] {0.3, 0.1, 0, -0.2, -0.5})).containsExactly(IDS[0], IDS[1]);
    assertThat(negative.select(IDS, new double[] {0, 0, -1, -2, -3})).isEmpty();
    negative.requireFits("knn-shapley");
    negative.requireFits("tmc-shapley");
    assertThatThrownBy(() -> negative.requireFits("linear-cg")).isInstanceOf(dev.lethe.LetheInputException.class)
        .hasMessageContaining("repair.selection").hasMessageContaining("linear-cg");
    Selection.topK(2).requireFits("linear-cg");
  }
}
