package dev.lethe.influence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lethe.LetheInputException;
import dev.lethe.data.ExampleSet;
import dev.lethe.math.TestNets;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

class BaselinesTest {
  private static final ExampleSet SET = TestNets.withCorruption(TestNets.randomSet(100, 4, 3, 1, 500), 7);

  private static double[] score(String method, long seed, ExampleSet s) {
    InfluenceInputs in = new InfluenceInputs(TestNets.logisticRegression(4, 3, 1, DataType.DOUBLE), null, s, null,
        100, InfluenceOptions.defaults(), seed);
    return InfluenceMethods.byName(method).prepare(in).spec().open().score(s).score();
  }

  @Test
  void randomIsDeterministicPerIdAndIndependentOfOrder() {
    double[] a = score("random", 5, SET);
    int[] reversed = IntStream.range(0, 100).map(i -> 99 - i).toArray();
    double[] b = score("random", 5, SET.select(reversed));
    for (int i = 0; i < 100; i++) {
      assertThat(b[99 - i]).isEqualTo(a[i]);
      assertThat(a[i]).isBetween(0.0, 1.0);
    }
    assertThat(score("random", 6, SET)).isNotEqualTo(a);
    assertThat(Arrays.stream(a).distinct().count()).isEqualTo(100);
  }

  @Test
  void oracleRanksEveryCorruptedRowFirst() {
    double[] s = score("oracle", 5, SET);
    Integer[] order = IntStream.range(0, 100).boxed().sorted(Comparator.comparingDouble(i -> -s[i]))
        .toArray(Integer[]::new);
    long corrupted = IntStream.range(0, 100).filter(i -> i % 7 == 0).count();
    for (int r = 0; r < 100; r++) {
      assertThat(order[r] % 7 == 0).as("rank %d", r).isEqualTo(r < corrupted);
    }
    assertThat(score("oracle", 5, SET)).isEqualTo(s);
  }

  @Test
  void unknownMethodListsTheKnownOnes() {
    assertThat(InfluenceMethods.names()).containsExactly("ewc-influence", "linear-cg", "linear-lissa", "random",
        "oracle", "loss", "tracin", "self-influence", "confident-learning", "puma", "knn-shapley", "tmc-shapley",
        "ensemble");
    for (String n : InfluenceMethods.names()) {
      if (!n.equals("ensemble")) {
        assertThat(InfluenceMethods.byName(n).name()).isEqualTo(n);
      }
      assertThat(InfluenceMethods.requireKnown(" " + n)).isEqualTo(n);
    }
    // ensemble's members come from the configuration only
    assertThatThrownBy(() -> InfluenceMethods.byName("ensemble")).isInstanceOf(LetheInputException.class)
        .hasMessageContaining("identify.ensemble.methods");
    assertThatThrownBy(() -> InfluenceMethods.requireKnown("tracin-magic")).isInstanceOf(LetheInputException.class)
        .hasMessageContaining("tracin-magic");
    assertThatThrownBy(() -> InfluenceMethods.byName("tracin-magic")).isInstanceOf(LetheInputException.class)
        .hasMessageContaining("tracin-magic").hasMessageContaining("ewc-influence, linear-cg, linear-lissa");
  }
}
