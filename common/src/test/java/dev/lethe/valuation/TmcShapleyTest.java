package dev.lethe.valuation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lethe.LetheInputException;
import dev.lethe.config.LetheConfig;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * TMC-Shapley on a tiny convex problem (8 training points, 2-D features, 3 classes; the retrained layer is
 * L2-regularised softmax regression, so U(S) is a function of S) against the exact Shapley values from every subset.
 */
class TmcShapleyTest {

  static ShapleyGame game(long seed, boolean logLikelihood, double truncation) {
    return game(seed, logLikelihood, truncation, 1);
  }

  static ShapleyGame game(long seed, boolean logLikelihood, double truncation, int patience) {
    Random rng = new Random(3);
    double[][] centres = {{0, 0}, {2, 0}, {1, 1.8}};
    int n = 8;
    double[][] x = new double[n][];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      y[i] = i % 3;
      x[i] = new double[] {centres[y[i]][0] + rng.nextGaussian(), centres[y[i]][1] + rng.nextGaussian()};
    }
    y[1] = 0; // a flipped label: class 1's point labelled 0
    double[][] q = new double[30][];
    int[] qy = new int[30];
    for (int i = 0; i < q.length; i++) {
      qy[i] = i % 3;
      q[i] = new double[] {centres[qy[i]][0] + rng.nextGaussian(), centres[qy[i]][1] + rng.nextGaussian()};
    }
    return ShapleyGame.of(x, y, q, qy, 3, logLikelihood, 0.1, 1e-8, 2000, truncation, patience, seed);
  }

  /** phi_i = sum over S without i of |S|! (n - |S| - 1)! / n! (U(S + i) - U(S)). */
  static double[] exact(ShapleyGame g) {
    int n = g.x().length;
    double[] u = new double[1 << n];
    for (int mask = 0; mask < u.length; mask++) {
      int[] rows = new int[Integer.bitCount(mask)];
      int m = 0;
      for (int i = 0; i < n; i++) {
        if ((mask >> i & 1) == 1) {
          rows[m++] = i;
        }
      }
      u[mask] = g.utilityOf(rows, m);
    }
    double[] phi = new double[n];
    for (int i = 0; i < n; i++) {
      for (int mask = 0; mask < u.length; mask++) {
        if ((mask >> i & 1) == 0) {
          phi[i] += KnnShapleyTest.weight(n, Integer.bitCount(mask)) * (u[mask | 1 << i] - u[mask]);
        }
      }
    }
    return phi;
  }

  @Test
  void agreesWithExactShapleyWithinItsReportedError() {
    ShapleyGame g = game(17, true, 0);
    double[] phi = exact(g);
    TmcShapley.Estimate e = TmcShapley.estimate(g, PermutationRunner.local(2), 1200, 400, 1e-9);
    System.err.printf("tmc-shapley: %d permutations, convergence error %.4f, max standard error %.4g%n",
        e.permutations(), e.convergenceError(), e.maxStandardError());
    assertThat(e.permutations()).isEqualTo(1200);
    for (int i = 0; i < phi.length; i++) {
      System.err.printf("  point %d: exact %.5f, estimate %.5f +- %.5f%n", i, phi[i], e.values()[i],
          e.standardErrors()[i]);
      // four standard errors (the estimate is a mean over independent permutations)
      assertThat(Math.abs(e.values()[i] - phi[i])).as("point %d", i)
          .isLessThanOrEqualTo(4 * e.standardErrors()[i] + 1e-9);
    }
    // efficiency holds for every permutation: the values sum to U(D) - U(empty set)
    double sum = java.util.Arrays.stream(e.values()).sum();
    assertThat(sum).isCloseTo(g.fullUtility() - g.utilityOf(new int[0], 0), org.assertj.core.data.Offset.offset(1e-7));
    // the flipped label is the culprit: its value is the lowest and negative
    assertThat(phi[1]).isNegative();
    assertThat(java.util.Arrays.stream(phi).min().getAsDouble()).isEqualTo(phi[1]);
  }

  @Test
  void stopsByTheConvergenceRuleAndDoesNotDependOnTheRunner() {
    ShapleyGame g = game(5, false, 0.01);
    TmcShapley.Estimate a = TmcShapley.estimate(g, PermutationRunner.local(1), 200, 20, 0.05);
    TmcShapley.Estimate b = TmcShapley.estimate(g, PermutationRunner.local(3), 200, 20, 0.05);
    assertThat(b.values()).isEqualTo(a.values());
    assertThat(a.permutations()).isEqualTo(b.permutations()).isLessThanOrEqualTo(200);
    assertThat(a.permutations() == 200 || a.convergenceError() < 0.05).isTrue();
    assertThat(a.truncatedShare()).isBetween(0.0, 1.0);
  }

  @Test
  void truncationWaitsForItsPatience() {
    // accuracy on Fq reaches U(D) within a few of the 8 examples: the literal rule truncates, a patience longer
    // than the permutation never does, and a longer patience never truncates more
    double[] share = new double[3];
    int[] patience = {1, 3, 9};
    for (int p = 0; p < 3; p++) {
      share[p] = TmcShapley.estimate(game(5, false, 0.05, patience[p]), PermutationRunner.local(2), 40, 40, 1e-9)
          .truncatedShare();
    }
    assertThat(share[0]).isPositive();
    assertThat(share[1]).isLessThanOrEqualTo(share[0]);
    assertThat(share[2]).isZero();
  }

  @Test
  void aZeroBudgetIsBadInputNamingItsKey() {
    LetheConfig c = LetheConfig.defaults();
    assertThatThrownBy(() -> TmcShapleyOptions.from(c.withString("identify.tmc-shapley.max-permutations", "0")))
        .isInstanceOf(LetheInputException.class).hasMessageContaining("identify.tmc-shapley.max-permutations");
    assertThatThrownBy(() -> TmcShapleyOptions.from(c.withString("identify.tmc-shapley.truncation-patience", "0")))
        .isInstanceOf(LetheInputException.class).hasMessageContaining("identify.tmc-shapley.truncation-patience");
    assertThatThrownBy(() -> TmcShapleyOptions.from(c.withString("identify.tmc-shapley.utility", "f1")))
        .isInstanceOf(LetheInputException.class).hasMessageContaining("identify.tmc-shapley.utility");
    assertThat(List.of(TmcShapleyInfluence.NAME)).containsExactly("tmc-shapley");
  }
}
