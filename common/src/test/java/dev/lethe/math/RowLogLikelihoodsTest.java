package dev.lethe.math;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lethe.LetheInputException;
import dev.lethe.data.ExampleSet;
import org.junit.jupiter.api.Test;

class RowLogLikelihoodsTest {
  private static final String FP = "model-fp";

  /** 20 rows with ids 100..119, added in two out-of-order parts as two partitions would give them. */
  private static RowLogLikelihoods table(ExampleSet s, double[] ll) {
    int[] odd = {19, 17, 15, 13, 11, 9, 7, 5, 3, 1};
    int[] even = {0, 2, 4, 6, 8, 10, 12, 14, 16, 18};
    RowLogLikelihoods.Builder a = new RowLogLikelihoods.Builder().add(s.select(odd), pick(ll, odd));
    RowLogLikelihoods.Builder b = new RowLogLikelihoods.Builder().add(s.select(even), pick(ll, even));
    return a.merge(b).build(FP, "logp.bin");
  }

  private static double[] pick(double[] v, int[] rows) {
    double[] out = new double[rows.length];
    for (int i = 0; i < rows.length; i++) {
      out[i] = v[rows[i]];
    }
    return out;
  }

  private static double[] values(int n) {
    double[] ll = new double[n];
    for (int i = 0; i < n; i++) {
      ll[i] = -0.37 * i - 1e-3 / (i + 1);
    }
    return ll;
  }

  @Test
  void looksUpEveryRowByIdWhateverTheOrderItWasAddedIn() {
    ExampleSet s = TestNets.randomSet(20, 12, 4, 3, 100);
    double[] ll = values(20);
    RowLogLikelihoods t = table(s, ll);
    assertThat(t.size()).isEqualTo(20);
    for (int i = 0; i < 20; i++) {
      assertThat(t.lookup(s, i)).isEqualTo(ll[i]);
    }
    // a block in another order (another partitioning) finds the same values
    int[] shuffled = {7, 3, 19, 0, 12};
    ExampleSet block = s.select(shuffled);
    for (int i = 0; i < shuffled.length; i++) {
      assertThat(t.lookup(block, i)).isEqualTo(ll[shuffled[i]]);
    }
  }

  @Test
  void bytesRoundTripAndDamageIsBadInputNamingTheFile() {
    ExampleSet s = TestNets.randomSet(20, 12, 4, 3, 100);
    double[] ll = values(20);
    byte[] bytes = table(s, ll).toBytes();
    RowLogLikelihoods back = RowLogLikelihoods.fromBytes(bytes, "/w/fisher/logp.bin");
    assertThat(back.modelFingerprint()).isEqualTo(FP);
    for (int i = 0; i < 20; i++) {
      assertThat(back.lookup(s, i)).isEqualTo(ll[i]);
    }
    byte[] flipped = bytes.clone();
    flipped[40] ^= 1;
    assertThatThrownBy(() -> RowLogLikelihoods.fromBytes(flipped, "/w/fisher/logp.bin"))
        .isInstanceOf(LetheInputException.class).hasMessageContaining("/w/fisher/logp.bin")
        .hasMessageContaining("CRC32");
    assertThatThrownBy(() -> RowLogLikelihoods.fromBytes(java.util.Arrays.copyOf(bytes, bytes.length - 30),
        "/w/fisher/logp.bin")).isInstanceOf(LetheInputException.class).hasMessageContaining("truncated");
    byte[] fisher = new DiagonalFisher(new double[] {1, 2}, 2, FP).toBytes();
    assertThatThrownBy(() -> RowLogLikelihoods.fromBytes(fisher, "/w/fisher/logp.bin"))
        .isInstanceOf(LetheInputException.class).hasMessageContaining("bad magic");
  }

  @Test
  void aRowThatChangedOrIsUnknownIsBadInputNamingTheIdAndTheTable() {
    ExampleSet s = TestNets.randomSet(20, 12, 4, 3, 100);
    RowLogLikelihoods t = RowLogLikelihoods.fromBytes(table(s, values(20)).toBytes(), "/w/fisher/logp.bin");
    // same id, one feature changed in its last bit
    float[][] f = new float[20][];
    int[] labels = s.labels().clone();
    for (int i = 0; i < 20; i++) {
      f[i] = s.features(i).clone();
    }
    f[5][11] = Math.nextUp(f[5][11]);
    labels[9] = (labels[9] + 1) % 4;
    long[] ids = new long[20];
    for (int i = 0; i < 20; i++) {
      ids[i] = s.id(i);
    }
    ExampleSet changed = ExampleSet.clean(ids, f, labels, 12);
    assertThat(t.lookup(changed, 4)).isEqualTo(t.lookup(s, 4));
    assertThatThrownBy(() -> t.lookup(changed, 5)).isInstanceOf(LetheInputException.class)
        .hasMessageContaining("/w/fisher/logp.bin").hasMessageContaining("id 105")
        .hasMessageContaining("other features or another label");
    assertThatThrownBy(() -> t.lookup(changed, 9)).isInstanceOf(LetheInputException.class)
        .hasMessageContaining("id 109");
    ExampleSet unknown = TestNets.randomSet(1, 12, 4, 3, 500);
    assertThatThrownBy(() -> t.lookup(unknown, 0)).isInstanceOf(LetheInputException.class)
        .hasMessageContaining("no log-likelihood for training row id 500");
    assertThatThrownBy(() -> t.requireMatches("other-fp", 20)).isInstanceOf(LetheInputException.class)
        .hasMessageContaining("another model");
    assertThatThrownBy(() -> t.requireMatches(FP, 21)).isInstanceOf(LetheInputException.class)
        .hasMessageContaining("holds 20 rows, the training table has 21");
    t.requireMatches(FP, 20);
  }

  @Test
  void aDuplicateIdIsRejected() {
    ExampleSet s = TestNets.randomSet(3, 12, 4, 3, 100);
    RowLogLikelihoods.Builder b = new RowLogLikelihoods.Builder().add(s, values(3)).add(s.select(new int[] {1}),
        new double[] {-1});
    assertThatThrownBy(() -> b.build(FP, "t")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("id 101 occurs twice");
  }

  @Test
  void doubleLogLikelihoodsOfAFloatCnnFromTheGradientPassEqualThoseOfItsDoubleCopy() {
    // a float network FastCnn supports (37 rows: a padded last group): log p from the gradient pass in double,
    // equal to the bit to LogLikelihood.perExample on the double copy, as ewc-influence's scorer computes it; the
    // gradients are those of forEach
    org.deeplearning4j.nn.multilayer.MultiLayerNetwork net = TestNets.reluCnn(3, 5,
        org.nd4j.linalg.api.buffer.DataType.FLOAT);
    ExampleSet s = TestNets.randomSet(37, 36, 3, 17, 0);
    org.deeplearning4j.nn.multilayer.MultiLayerNetwork copy = NetworkBytes.rebuild(NetworkBytes.configBytes(net),
        NetworkBytes.paramBytes(net.params()), org.nd4j.linalg.api.buffer.DataType.DOUBLE);
    double[] want = LogLikelihood.perExample(copy, s, 8);
    double[] got = new double[s.size()];
    java.util.List<double[]> grads = new java.util.ArrayList<>();
    assertThat(PerExampleGradients.forEachWithDoubleLogLik(net, s, got, (r, g) -> grads.add(g.toDoubleVector())))
        .isTrue();
    assertThat(got).containsExactly(want);
    // not DL4J's float pass: that differs in the float digits
    double[] floatPass = LogLikelihood.perExample(net, s, 8);
    assertThat(java.util.Arrays.equals(floatPass, want)).isFalse();
    java.util.List<double[]> plain = new java.util.ArrayList<>();
    PerExampleGradients.forEach(net, s, (r, g) -> plain.add(g.toDoubleVector()));
    for (int i = 0; i < s.size(); i++) {
      assertThat(grads.get(i)).containsExactly(plain.get(i));
    }
    // an MLP: no values (its DL4J pass depends on the batch shape), logLik untouched, the same gradients
    org.deeplearning4j.nn.multilayer.MultiLayerNetwork mlp = TestNets.mlp(6, 3, 7,
        org.nd4j.linalg.api.buffer.DataType.FLOAT);
    ExampleSet m = TestNets.randomSet(5, 6, 3, 19, 0);
    double[] untouched = {7, 7, 7, 7, 7};
    int[] visited = {0};
    assertThat(PerExampleGradients.forEachWithDoubleLogLik(mlp, m, untouched, (r, g) -> visited[0]++)).isFalse();
    assertThat(untouched).containsOnly(7.0);
    assertThat(visited[0]).isEqualTo(5);
  }
}
