package dev.lethe.math.backend;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lethe.data.ExampleSet;
import dev.lethe.influence.EwcInfluence;
import dev.lethe.influence.EwcOptions;
import dev.lethe.influence.InfluenceInputs;
import dev.lethe.influence.InfluenceOptions;
import dev.lethe.influence.PreparedInfluence;
import dev.lethe.influence.Scorer;
import dev.lethe.math.DiagonalFisher;
import dev.lethe.math.EmpiricalFisher;
import dev.lethe.math.NetworkBytes;
import dev.lethe.math.TestNets;
import dev.lethe.model.Architecture;
import dev.lethe.model.ModelOptions;
import dev.lethe.model.Models;
import dev.lethe.valuation.KnnShapleyInfluence;
import dev.lethe.valuation.PenultimateFeatures;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * {@code compute.backend = dl4j} and {@code auto} compute the same EWC-influence on the paper CNN: the Fisher
 * diagonal, the EWC update theta* and the scores r(z), the latter equal to 1e-9 relative, so the same ranking. The
 * network is double precision: with float parameters the update's steps round differently on the two paths (float
 * GEMMs of different blocking), which no tolerance near 1e-9 would absorb.
 */
class ComputeBackendEquivalenceTest {
  private static final double REL = 1e-9;

  @AfterEach
  void restore() {
    BackendSelector.configure(ComputeBackend.AUTO);
  }

  @Test
  void ewcInfluenceIsTheSameOnBothBackends() throws Exception {
    MultiLayerNetwork f = Models.build(new ModelOptions(Architecture.CNN, 1, 28, 28, 10, List.of(), 7),
        DataType.FLOAT);
    MultiLayerNetwork net = NetworkBytes.rebuild(NetworkBytes.configBytes(f), NetworkBytes.paramBytes(f.params()),
        DataType.DOUBLE);
    ExampleSet train = TestNets.randomSet(32, 784, 10, 21, 0);
    ExampleSet query = TestNets.randomSet(12, 784, 10, 22, 1000);
    InfluenceOptions o = InfluenceOptions.defaults().withEwc(new EwcOptions(0.03, 1e-3, 1e-3, 4, 2, 5, 0.0));

    Run auto = run(ComputeBackend.AUTO, net, train, query, o);
    Run dl4j = run(ComputeBackend.DL4J, net, train, query, o);

    for (int j = 0; j < auto.fisher.size(); j++) {
      assertClose(dl4j.fisher.values()[j], auto.fisher.values()[j], 1e-12, "Fisher diagonal entry " + j);
    }
    double worst = 0;
    for (int i = 0; i < auto.scores.length; i++) {
      assertClose(dl4j.scores[i], auto.scores[i], 1e-300, "score of row " + i);
      worst = Math.max(worst, Math.abs(dl4j.scores[i] - auto.scores[i]) / Math.abs(auto.scores[i]));
    }
    System.err.printf("ewc-influence, dl4j vs auto: largest relative score difference %.3g%n", worst);
    assertThat(ranking(dl4j.scores)).isEqualTo(ranking(auto.scores));
  }

  /**
   * The penultimate-layer embeddings (the 64 pooled channels) agree to 1e-9 relative on the two backends, also in
   * batches that do not divide the rows (zero padding), and so do knn-shapley's values, with the same ranking.
   */
  @Test
  void embeddingsAndKnnShapleyAreTheSameOnBothBackends() throws Exception {
    MultiLayerNetwork f = Models.build(new ModelOptions(Architecture.CNN, 1, 28, 28, 10, List.of(), 9),
        DataType.FLOAT);
    MultiLayerNetwork net = NetworkBytes.rebuild(NetworkBytes.configBytes(f), NetworkBytes.paramBytes(f.params()),
        DataType.DOUBLE);
    ExampleSet train = TestNets.randomSet(45, 784, 10, 31, 0);
    ExampleSet query = TestNets.randomSet(9, 784, 10, 32, 1000);
    double[][][] emb = new double[2][][];
    double[][] scores = new double[2][];
    ComputeBackend[] modes = {ComputeBackend.AUTO, ComputeBackend.DL4J};
    for (int m = 0; m < 2; m++) {
      BackendSelector.configure(modes[m]);
      emb[m] = PenultimateFeatures.of(net, train, 7);
      PreparedInfluence p = new KnnShapleyInfluence(3, 2).prepare(new InfluenceInputs(net, null, query, null,
          train.size(), InfluenceOptions.defaults(), 1).withTrain(train));
      try (Scorer s = p.spec().open()) {
        scores[m] = s.score(train).score();
      }
    }
    assertThat(emb[0][0]).hasSize(64);
    for (int i = 0; i < train.size(); i++) {
      for (int j = 0; j < 64; j++) {
        assertClose(emb[1][i][j], emb[0][i][j], 1e-12, "embedding " + i + ", channel " + j);
      }
      assertClose(scores[1][i], scores[0][i], 1e-12, "knn-shapley score of row " + i);
    }
    assertThat(ranking(scores[1])).isEqualTo(ranking(scores[0]));
  }

  private record Run(DiagonalFisher fisher, double[] scores) {}

  private static Run run(ComputeBackend mode, MultiLayerNetwork net, ExampleSet train, ExampleSet query,
      InfluenceOptions o) throws Exception {
    BackendSelector.configure(mode);
    assertThat(BackendSelector.current().select(net, Purpose.DOUBLE).name())
        .isEqualTo(mode == ComputeBackend.AUTO ? "fast-cnn" : "dl4j");
    DiagonalFisher fisher = EmpiricalFisher.compute(net, train);
    PreparedInfluence p = new EwcInfluence().prepare(new InfluenceInputs(net, fisher, query, null, train.size(), o,
        42));
    try (Scorer s = p.spec().open()) {
      return new Run(fisher, s.score(train).score());
    }
  }

  private static void assertClose(double got, double want, double floor, String what) {
    assertThat(Math.abs(got - want)).as("%s: %s vs %s", what, got, want)
        .isLessThanOrEqualTo(Math.max(floor, REL * Math.abs(want)));
  }

  private static List<Integer> ranking(double[] scores) {
    return IntStream.range(0, scores.length).boxed()
        .sorted(Comparator.comparingDouble((Integer i) -> -scores[i]).thenComparing(i -> i)).toList();
  }
}
