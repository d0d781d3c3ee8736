package dev.lethe.influence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class IdentificationCurveTest {
  @Test
  void foundFractionsAndAreaOfASmallRanking() {
    // 4 corrupted among 20 rows, at ranks 1, 2, 5 and 20
    IdentificationCurve c = new IdentificationCurve("m", 20, new long[] {20, 5, 1, 2}, 3.5);
    assertThat(c.corrupted()).isEqualTo(4);
    assertThat(c.foundAt(0.05)).isEqualTo(0.25); // top 1 row
    assertThat(c.foundAt(0.10)).isEqualTo(0.5); // top 2 rows
    assertThat(c.foundAt(0.20)).isEqualTo(0.5); // top 4 rows
    assertThat(c.foundAt(0.25)).isEqualTo(0.75); // top 5 rows
    assertThat(c.foundAt(1.0)).isEqualTo(1.0);
    assertThat(c.shareInTop(0.10)).isEqualTo(1.0); // both of the top 2 rows
    assertThat(c.shareInTop(0.25)).isEqualTo(0.6); // 3 of the top 5 rows
    assertThat(c.baseRate()).isEqualTo(0.2);
    // (1/4) (20 + 19 + 16 + 1) / 20
    assertThat(c.areaUnderCurve()).isCloseTo(56.0 / 80, within(1e-15));
    List<double[]> p = c.points(100);
    assertThat(p).hasSize(6);
    assertThat(p.get(1)).containsExactly(0.05, 0.25);
    assertThat(p.get(3)).containsExactly(0.25, 0.75);
    assertThat(p.get(5)).containsExactly(1.0, 1.0);
    // thinned: every 2nd corrupted example, always the last
    assertThat(c.points(2)).hasSize(4);
  }

  @Test
  void shareAmongTheTop() {
    // 4 corrupted among 20 rows, at ranks 1, 2, 5 and 20
    IdentificationCurve c = new IdentificationCurve("m", 20, new long[] {20, 5, 1, 2}, 3.5);
    assertThat(c.shareInTop(0.05)).isEqualTo(1.0); // 1 of the top 1
    assertThat(c.shareInTop(0.20)).isEqualTo(0.5); // 2 of the top 4
    assertThat(c.shareInTop(0.25)).isEqualTo(0.6); // 3 of the top 5
    assertThat(c.baseRate()).isEqualTo(0.2);
  }

  @Test
  void perfectAndRandomRankingsBracketTheArea() {
    long[] first = new long[100];
    long[] spread = new long[100];
    for (int i = 0; i < 100; i++) {
      first[i] = i + 1;
      spread[i] = 10L * i + 5;
    }
    assertThat(new IdentificationCurve("oracle", 1000, first, Double.NaN).areaUnderCurve())
        .isCloseTo(1 - 0.05 + 0.0005, within(1e-12));
    assertThat(new IdentificationCurve("even", 1000, spread, Double.NaN).areaUnderCurve())
        .isCloseTo(0.5, within(0.01));
  }

  @Test
  void noCorruptionMeansNoCurve() {
    IdentificationCurve c = new IdentificationCurve("m", 10, new long[0], Double.NaN);
    assertThat(c.hasCorruption()).isFalse();
    assertThat(c.foundAt(0.1)).isNaN();
    assertThat(c.areaUnderCurve()).isNaN();
    assertThatThrownBy(() -> new IdentificationCurve("m", 10, new long[] {11}, 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("rank 11");
  }
}
