package dev.lethe.influence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lethe.LetheInputException;
import dev.lethe.config.LetheConfig;

import dev.lethe.data.Corruption;
import dev.lethe.data.ExampleSet;
import dev.lethe.math.DiagonalFisher;
import dev.lethe.model.Architecture;
import dev.lethe.model.ModelOptions;
import dev.lethe.model.Models;
import dev.lethe.model.TrainOptions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Confident learning on a synthetic problem with known flips: three well-separated Gaussian classes in 4-D (centres
 * 8 standard deviations apart), 300 examples, 15 labels flipped. The out-of-fold softmax regressions are then
 * near-perfect, so every flipped example must be ranked before every clean one.
 */
class ConfidentLearningTest {
  private static final int N = 300;
  private static final int FLIPS = 15;
  private static final double SIGMA = 0.25;
  private static final double[][] CENTRES = {{0, 0, 0, 0}, {2, 0, 0, 0}, {0, 2, 0, 0}};

  private static ExampleSet problem() {
    Random rng = new Random(5);
    long[] ids = new long[N];
    float[][] f = new float[N][4];
    int[] y = new int[N];
    for (int i = 0; i < N; i++) {
      ids[i] = 1000 - 3L * i;
      y[i] = i % 3;
      for (int j = 0; j < 4; j++) {
        f[i][j] = (float) (CENTRES[y[i]][j] + SIGMA * rng.nextGaussian());
      }
    }
    int[] labels = y.clone();
    Corruption[] corr = new Corruption[N];
    Arrays.fill(corr, Corruption.NONE);
    for (int i = 0; i < FLIPS; i++) {
      int r = 7 + 19 * i;
      labels[r] = (y[r] + 1 + i % 2) % 3;
      corr[r] = Corruption.LABEL_FLIP;
    }
    return new ExampleSet(ids, f, labels, y, corr, 4);
  }

  @Test
  void theRegistryTakesTheScoreFromTheConfiguration() {
    LetheConfig margin = LetheConfig.load(null, null,
        List.of("identify.confident-learning.score = normalized-margin"));
    assertThat(((ConfidentLearning) InfluenceMethods.byName(ConfidentLearning.NAME, margin)).score())
        .isEqualTo(LabelQuality.Score.NORMALIZED_MARGIN);
    assertThat(((ConfidentLearning) InfluenceMethods.byName(ConfidentLearning.NAME)).score())
        .isEqualTo(LabelQuality.Score.SELF_CONFIDENCE);
    assertThatThrownBy(() -> InfluenceMethods.byName(ConfidentLearning.NAME, LetheConfig.load(null, null,
        List.of("identify.confident-learning.score = margin")))).isInstanceOf(LetheInputException.class)
        .hasMessageContaining("identify.confident-learning.score");
  }

  @Test
  void nearPerfectOutOfFoldModelsRankEveryFlipFirst() {
    ExampleSet train = OutOfFoldTraining.sortedById(problem());
    ModelOptions mo = new ModelOptions(Architecture.LOGISTIC, 1, 2, 2, 3, List.of(), 11);
    TrainOptions to = new TrainOptions(0.1, 64, 20, 5, 0.1, 13);
    int k = 3;
    int[] fold = OutOfFoldTraining.foldOf(train.ids(), k, 42);
    // balanced: 100 rows per fold
    for (int f = 0; f < k; f++) {
      int ff = f;
      assertThat(Arrays.stream(fold).filter(x -> x == ff).count()).isEqualTo(N / k);
    }
    List<OutOfFoldTraining.Fold> folds = new ArrayList<>();
    for (int f = k - 1; f >= 0; f--) {
      folds.add(OutOfFoldTraining.trainFold(train, fold, f, mo, to));
    }
    OutOfFold oof = OutOfFoldTraining.assemble(train, folds);
    int right = 0;
    for (int i = 0; i < N; i++) {
      double[] p = oof.probs()[i];
      int best = IntStream.range(0, 3).reduce((a, b) -> p[a] >= p[b] ? a : b).orElseThrow();
      right += best == train.originalLabel(i) ? 1 : 0;
    }
    assertThat(right).as("out-of-fold accuracy on the true labels").isGreaterThanOrEqualTo(N - 3);

    InfluenceInputs in = new InfluenceInputs(Models.build(mo), (DiagonalFisher) null, train.select(new int[0]), null,
        N, InfluenceOptions.defaults(), 7).withOutOfFold(oof);
    for (LabelQuality.Score score : LabelQuality.Score.values()) {
      PreparedInfluence p = new ConfidentLearning(score).prepare(in);
      double[] s = p.spec().open().score(problem()).score();
      ExampleSet original = problem();
      Integer[] order = IntStream.range(0, N).boxed().toArray(Integer[]::new);
      Arrays.sort(order, Comparator.comparingDouble((Integer i) -> -s[i]).thenComparingLong(original::id));
      for (int rank = 0; rank < FLIPS; rank++) {
        assertThat(original.corruption(order[rank])).as("%s: rank %d", score, rank + 1)
            .isEqualTo(Corruption.LABEL_FLIP);
      }
      Map<String, Object> d = p.diagnostics();
      assertThat(d.get("score")).isEqualTo(score.key());
      @SuppressWarnings("unchecked")
      List<List<Double>> noise = (List<List<Double>>) d.get("noiseMatrix");
      for (int j = 0; j < 3; j++) {
        int jj = j;
        double col = noise.stream().mapToDouble(r -> r.get(jj)).sum();
        assertThat(col).as("noise matrix column %d", j).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-12));
        // mostly correct labels: P(given = j | true = j) well above the flip share
        assertThat(noise.get(j).get(j)).isGreaterThan(0.8);
      }
      assertThat((Long) d.get("estimatedLabelIssues")).isBetween((long) FLIPS - 3, (long) FLIPS + 3);
      @SuppressWarnings("unchecked")
      List<Double> t = (List<Double>) d.get("thresholds");
      assertThat(t).hasSize(3).allMatch(v -> v > 0.5 && v < 1.0);
    }
  }
}
