package dev.lethe.influence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.lethe.LetheInputException;
import dev.lethe.config.LetheConfig;
import dev.lethe.data.ExampleSet;
import dev.lethe.math.TestNets;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

class EnsembleInfluenceTest {
  /** Five examples with ids 100..104. */
  private static final ExampleSet SET = TestNets.randomSet(5, 4, 3, 1, 100);

  private static InfluenceInputs inputs(List<Ranking> rankings) {
    return new InfluenceInputs(TestNets.logisticRegression(4, 3, 1, DataType.DOUBLE), null, SET, null, 5,
        InfluenceOptions.defaults(), 7).withRankings(rankings);
  }

  private static double[] scores(List<String> members, List<Ranking> rankings) {
    return new EnsembleInfluence(members).prepare(inputs(rankings)).spec().open().score(SET).score();
  }

  @Test
  void scoresAreOneMinusTheMeanRankOverN() {
    // a: 100 first ... 104 last; b: the reverse but 102 first; given in shuffled (id, rank) order
    Ranking a = Ranking.of("loss", new long[] {104, 100, 103, 101, 102}, new long[] {5, 1, 4, 2, 3});
    Ranking b = Ranking.of("tracin", new long[] {100, 101, 102, 103, 104}, new long[] {5, 4, 1, 3, 2});
    double[] s = scores(List.of("tracin", "loss"), List.of(a, b));
    // mean ranks 3, 3, 2, 3.5, 3.5 -> 1 - (m - 0.5) / 5
    double[] expected = {0.5, 0.5, 0.7, 0.4, 0.4};
    for (int i = 0; i < 5; i++) {
      assertThat(s[i]).as("id %d", 100 + i).isCloseTo(expected[i], within(1e-15));
    }
  }

  @Test
  void identicalRankingsReproduceTheRankingAndScoreByIdWhateverTheBlock() {
    long[] ids = {100, 101, 102, 103, 104};
    long[] ranks = {3, 1, 5, 2, 4};
    List<Ranking> r = List.of(new Ranking("loss", ids, ranks), new Ranking("random", ids, ranks));
    PreparedInfluence p = new EnsembleInfluence(List.of("loss", "random")).prepare(inputs(r));
    double[] s = p.spec().open().score(SET).score();
    for (int i = 0; i < 5; i++) {
      assertThat(s[i]).isEqualTo(1 - (ranks[i] - 0.5) / 5);
    }
    // the rows in another order and in blocks of one score the same, to the bit
    int[] reversed = IntStream.range(0, 5).map(i -> 4 - i).toArray();
    double[] back = p.spec().open().score(SET.select(reversed)).score();
    for (int i = 0; i < 5; i++) {
      assertThat(back[4 - i]).isEqualTo(s[i]);
      assertThat(p.spec().open().score(SET.select(new int[] {i})).score()[0]).isEqualTo(s[i]);
    }
    assertThat(((java.util.Map<?, ?>) p.diagnostics().get("rankCorrelations")).get("loss/random")).isEqualTo(1.0);
  }

  @Test
  void aMissingOrMismatchedMemberIsBadInputNamingIt() {
    long[] ids = {100, 101, 102, 103, 104};
    Ranking loss = new Ranking("loss", ids, new long[] {1, 2, 3, 4, 5});
    assertThatThrownBy(() -> scores(List.of("loss", "tracin"), List.of(loss)))
        .isInstanceOf(LetheInputException.class).hasMessageContaining("tracin");
    Ranking shortOne = new Ranking("tracin", new long[] {100, 101, 102, 103}, new long[] {1, 2, 3, 4});
    assertThatThrownBy(() -> scores(List.of("loss", "tracin"), List.of(loss, shortOne)))
        .isInstanceOf(LetheInputException.class).hasMessageContaining("tracin").hasMessageContaining("4 examples");
    assertThatThrownBy(() -> new Ranking("x", ids, new long[] {1, 2, 2, 4, 5}))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("permutation");
  }

  @Test
  void membersAreValidatedNamingTheKey() {
    for (String bad : List.of("[tracin]", "[tracin, tracin]", "[tracin, ensemble]", "[tracin, magic]")) {
      LetheConfig c = LetheConfig.load("", "test", List.of("identify.ensemble.methods=" + bad));
      assertThatThrownBy(() -> InfluenceMethods.byName("ensemble", c)).as(bad)
          .isInstanceOf(LetheInputException.class).hasMessageContaining("identify.ensemble.methods");
    }
    LetheConfig ok = LetheConfig.load("", "test", List.of("identify.ensemble.methods=[tracin, loss]"));
    assertThat(((EnsembleInfluence) InfluenceMethods.byName("ensemble", ok)).members())
        .containsExactly("tracin", "loss");
  }
}
