package dev.lethe.valuation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lethe.data.ExampleSet;
import dev.lethe.influence.InfluenceInputs;
import dev.lethe.influence.InfluenceOptions;
import dev.lethe.influence.PreparedInfluence;
import dev.lethe.math.TestNets;
import java.util.Arrays;
import java.util.Random;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

class KnnShapleyTest {

  /** U(S) averaged over the test points: the share of the min(K, |S|) nearest points of S with the test label. */
  private static double utility(boolean[] in, double[][] train, int[] trainLabels, double[][] test, int[] testLabels,
      int k) {
    double total = 0;
    for (int t = 0; t < test.length; t++) {
      Integer[] order = java.util.stream.IntStream.range(0, train.length).filter(i -> in[i]).boxed()
          .toArray(Integer[]::new);
      double[] x = test[t];
      Arrays.sort(order, (a, b) -> Double.compare(dist(train[a], x), dist(train[b], x)));
      double u = 0;
      for (int r = 0; r < Math.min(k, order.length); r++) {
        u += trainLabels[order[r]] == testLabels[t] ? 1.0 / k : 0;
      }
      total += u;
    }
    return total / test.length;
  }

  private static double dist(double[] a, double[] b) {
    double d = 0;
    for (int j = 0; j < a.length; j++) {
      d += (a[j] - b[j]) * (a[j] - b[j]);
    }
    return d;
  }

  /** The Shapley value by enumerating every subset. */
  static double[] bruteForce(double[][] train, int[] trainLabels, double[][] test, int[] testLabels, int k) {
    int n = train.length;
    double[] u = new double[1 << n];
    for (int mask = 0; mask < u.length; mask++) {
      boolean[] in = new boolean[n];
      for (int i = 0; i < n; i++) {
        in[i] = (mask >> i & 1) == 1;
      }
      u[mask] = utility(in, train, trainLabels, test, testLabels, k);
    }
    double[] phi = new double[n];
    for (int i = 0; i < n; i++) {
      for (int mask = 0; mask < u.length; mask++) {
        if ((mask >> i & 1) == 0) {
          int s = Integer.bitCount(mask);
          phi[i] += weight(n, s) * (u[mask | 1 << i] - u[mask]);
        }
      }
    }
    return phi;
  }

  /** |S|! (n - |S| - 1)! / n! */
  static double weight(int n, int s) {
    double w = 1.0 / n;
    for (int j = 1; j <= s; j++) {
      w *= (double) j / (n - j);
    }
    return w;
  }

  private static double[][] points(Random rng, int n, int d) {
    double[][] p = new double[n][d];
    for (double[] row : p) {
      for (int j = 0; j < d; j++) {
        row[j] = rng.nextGaussian();
      }
    }
    return p;
  }

  @Test
  void matchesSubsetEnumerationOnASmallSet() {
    Random rng = new Random(11);
    for (int k : new int[] {1, 3, 5}) {
      int n = 9;
      double[][] train = points(rng, n, 3);
      int[] labels = rng.ints(n, 0, 3).toArray();
      double[][] test = points(rng, 7, 3);
      int[] testLabels = rng.ints(7, 0, 3).toArray();
      double[] exact = bruteForce(train, labels, test, testLabels, k);
      double[] fast = KnnShapley.values(train, labels, test, testLabels, k, 2);
      for (int i = 0; i < n; i++) {
        assertThat(fast[i]).as("K = %d, point %d", k, i).isCloseTo(exact[i], org.assertj.core.data.Offset.offset(1e-12));
      }
      // efficiency: the values sum to U(D) - U(empty set) = U(D)
      boolean[] all = new boolean[n];
      Arrays.fill(all, true);
      assertThat(Arrays.stream(fast).sum()).isCloseTo(utility(all, train, labels, test, testLabels, k),
          org.assertj.core.data.Offset.offset(1e-12));
    }
  }

  @Test
  void valuesDoNotDependOnTheNumberOfThreads() {
    Random rng = new Random(5);
    double[][] train = points(rng, 500, 8);
    int[] labels = rng.ints(500, 0, 4).toArray();
    double[][] test = points(rng, 70, 8);
    int[] testLabels = rng.ints(70, 0, 4).toArray();
    double[] one = KnnShapley.values(train, labels, test, testLabels, 10, 1);
    assertThat(KnnShapley.values(train, labels, test, testLabels, 10, 3)).isEqualTo(one);
  }

  @Test
  void methodScoresMinusTheValueOfEachTrainingRowInAnyBlock() {
    ExampleSet train = TestNets.randomSet(120, 4, 3, 1, 100);
    ExampleSet query = TestNets.randomSet(30, 4, 3, 2, 10_000);
    MultiLayerNetwork net = TestNets.logisticRegression(4, 3, 1, DataType.DOUBLE);
    InfluenceInputs in = new InfluenceInputs(net, null, query, null, train.size(), InfluenceOptions.defaults(), 1)
        .withTrain(train);
    PreparedInfluence p = new KnnShapleyInfluence(5, 2).prepare(in);
    // softmax regression's penultimate embedding is the input itself
    double[][] x = new double[train.size()][];
    for (int i = 0; i < x.length; i++) {
      x[i] = toDouble(train.features(i));
    }
    double[][] q = new double[query.size()][];
    for (int i = 0; i < q.length; i++) {
      q[i] = toDouble(query.features(i));
    }
    double[] values = KnnShapley.values(x, train.labels(), q, query.labels(), 5, 1);
    int[] reversed = java.util.stream.IntStream.range(0, 120).map(i -> 119 - i).toArray();
    double[] scores = p.spec().open().score(train.select(reversed)).score();
    for (int i = 0; i < 120; i++) {
      assertThat(scores[119 - i]).isEqualTo(-values[i]);
    }
    assertThat((double) p.diagnostics().get("knnQueryAccuracy")).isCloseTo(Arrays.stream(values).sum(),
        org.assertj.core.data.Offset.offset(1e-12));
  }

  private static double[] toDouble(float[] f) {
    double[] d = new double[f.length];
    for (int j = 0; j < f.length; j++) {
      d[j] = f[j];
    }
    return d;
  }
}
