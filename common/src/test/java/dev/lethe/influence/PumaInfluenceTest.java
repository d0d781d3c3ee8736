package dev.lethe.influence;

import static dev.lethe.math.SoftmaxRegressionReference.MU;
import static dev.lethe.math.SoftmaxRegressionReference.P;
import static dev.lethe.math.SoftmaxRegressionReference.fit;
import static dev.lethe.math.SoftmaxRegressionReference.network;
import static dev.lethe.math.SoftmaxRegressionReference.predict;
import static dev.lethe.math.SoftmaxRegressionReference.sample;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lethe.LetheInputException;
import dev.lethe.config.LetheConfig;
import dev.lethe.data.Corruption;
import dev.lethe.data.ExampleSet;
import dev.lethe.math.DiagonalFisher;
import dev.lethe.math.EmpiricalFisher;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * PUMA's data value on the convex fixture of {@link ConvexInfluenceCheckTest} (softmax regression on 3 Gaussian
 * classes, 20 labels of class 0 flipped to 1): with the query loss as metric it is linear influence's score over
 * gamma |Fq|; every metric's gradient matches central differences of the metric.
 */
class PumaInfluenceTest {
  static ExampleSet train;
  static ExampleSet query;
  static ExampleSet benchmark;
  static MultiLayerNetwork model;
  static DiagonalFisher fisher;

  @BeforeAll
  static void fixture() {
    Random rng = new Random(2022);
    train = sample(rng, 200, 0);
    int[] labels = train.labels().clone();
    Corruption[] corr = new Corruption[labels.length];
    Arrays.fill(corr, Corruption.NONE);
    int flipped = 0;
    for (int i = 0; i < labels.length && flipped < 20; i++) {
      if (labels[i] == 0) {
        labels[i] = 1;
        corr[i] = Corruption.LABEL_FLIP;
        flipped++;
      }
    }
    train = train.withLabels(labels, corr);
    double[] thetaHat = fit(train, null, new double[P]);
    ExampleSet test = sample(rng, 600, 10_000);
    List<Integer> wrong = new ArrayList<>();
    List<Integer> right = new ArrayList<>();
    for (int i = 0; i < test.size(); i++) {
      (predict(thetaHat, test.features(i)) != test.label(i) ? wrong : right).add(i);
    }
    query = test.select(wrong.stream().mapToInt(Integer::intValue).toArray());
    benchmark = test.select(right.stream().mapToInt(Integer::intValue).filter(i -> i % 2 == 0).toArray());
    model = network(thetaHat);
    fisher = EmpiricalFisher.compute(model, train);
  }

  private static InfluenceOptions options(String curvature) {
    EwcOptions ewc = new EwcOptions(0.03, 0.0, 1e-2, 1024, 2000, 50, 0.0);
    return new InfluenceOptions(ewc, 0.03, curvature, MU / 200, 200, 1e-10, 0, 2000, 4, 50, 64);
  }

  private static InfluenceInputs inputs(InfluenceOptions o) {
    return new InfluenceInputs(model, fisher, query, train, train.size(), o, 7).withBenchmark(benchmark);
  }

  private static PumaOptions metric(String name) {
    return PumaOptions.defaults().withMetric(name, 3);
  }

  @Test
  void queryLossValueIsLinearInfluenceOverGammaTimesFq() {
    for (String solver : List.of("cg-full", "cg-diagonal", "lissa-full")) {
      boolean lissa = solver.startsWith("lissa");
      InfluenceOptions full = options(solver.substring(solver.indexOf('-') + 1));
      // a short LiSSA recursion: the equality holds for any depth (both methods draw the same minibatches)
      InfluenceOptions o = lissa ? full.withLissa(0, 200, 1, 50) : full;
      double[] r = (lissa ? LinearInfluence.lissa() : LinearInfluence.cg()).prepare(inputs(o)).spec().open()
          .score(train).score();
      PreparedInfluence p = new PumaInfluence(metric("query-loss").withSolver(lissa ? "lissa" : "cg"))
          .prepare(inputs(o));
      double[] psi = p.spec().open().score(train).score();
      // the spec survives serialisation, as when shipped to Spark executors
      assertThat(ConvexInfluenceCheckTest.roundTrip(p.spec()).open().score(train).score()).isEqualTo(psi);
      double scale = o.linearGamma() * query.size();
      double maxDiff = 0;
      double maxAbs = 0;
      for (int i = 0; i < r.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(scale * psi[i] - r[i]));
        maxAbs = Math.max(maxAbs, Math.abs(r[i]));
      }
      System.err.printf("puma query-loss vs linear influence (%s): max |gamma |Fq| psi - r| = %.3g, max |r| = %.3g%n",
          solver, maxDiff, maxAbs);
      assertThat(maxAbs).isGreaterThan(0);
      assertThat(maxDiff).isLessThanOrEqualTo(1e-9 * maxAbs);
    }
  }

  @Test
  void metricGradientsMatchCentralDifferences() {
    for (String name : List.of("query-loss", "benchmark-accuracy", "class-recall:1", "calibration")) {
      PumaOptions o = metric(name);
      PumaMetric m = PumaMetric.of(o, model, query, benchmark);
      double[] g = m.gradient(model);
      assertThat(g).hasSize(P);
      double h = 1e-6;
      for (int j = 0; j < P; j++) {
        MultiLayerNetwork plus = model.clone();
        plus.params().putScalar(j, plus.params().getDouble(j) + h);
        MultiLayerNetwork minus = model.clone();
        minus.params().putScalar(j, minus.params().getDouble(j) - h);
        double fd = (PumaMetric.of(o, plus, query, benchmark).value()
            - PumaMetric.of(o, minus, query, benchmark).value()) / (2 * h);
        assertThat(Math.abs(g[j] - fd)).as("%s, parameter %d: analytic %s, central difference %s", name, j, g[j], fd)
            .isLessThanOrEqualTo(1e-6 * Math.abs(fd) + 1e-8);
      }
    }
  }

  @Test
  void benchmarkAccuracyValueAgreesWithItsFirstOrderPrediction() {
    // psi(z) predicts the change of C from up-weighting z by epsilon: dC ~ -epsilon psi(z); check the sign and size
    // against refitting with z's weight doubled (epsilon = 1 / N of the sum objective); H is the empirical Fisher, not
    // the Hessian of the refit objective, hence the 50% tolerance
    PumaOptions o = metric("benchmark-accuracy").withSolver("cg");
    double[] psi = new PumaInfluence(o).prepare(inputs(options("full"))).spec().open().score(train).score();
    int top = 0;
    for (int i = 1; i < psi.length; i++) {
      top = Math.abs(psi[i]) > Math.abs(psi[top]) ? i : top;
    }
    ExampleSet copy = new ExampleSet(new long[] {999_999}, new float[][] {train.features(top)},
        new int[] {train.label(top)}, new int[] {train.originalLabel(top)}, new Corruption[] {train.corruption(top)},
        train.numFeatures());
    ExampleSet doubled = train.concat(copy);
    double[] theta = fit(doubled, null, dev.lethe.math.SoftmaxRegressionReference.theta(model));
    double change = PumaMetric.of(o, network(theta), query, benchmark).value()
        - PumaMetric.of(o, model, query, benchmark).value();
    double predicted = -psi[top] / train.size();
    System.err.printf("benchmark-accuracy: refit change %.4g, first-order prediction %.4g%n", change, predicted);
    assertThat(Math.signum(change)).isEqualTo(Math.signum(predicted));
    assertThat(Math.abs(change - predicted)).isLessThanOrEqualTo(0.5 * Math.abs(predicted));
  }

  @Test
  void badMetricSettingsNameTheirKey() {
    LetheConfig c = LetheConfig.defaults().withString("data.num-classes", "3");
    assertThat(PumaOptions.from(c.withString("identify.puma.metric", "class-recall:2")).recallClass()).isEqualTo(2);
    assertThatThrownBy(() -> PumaOptions.from(c.withString("identify.puma.metric", "accuracy")))
        .isInstanceOf(LetheInputException.class).hasMessageContaining("identify.puma.metric")
        .hasMessageContaining("accuracy");
    assertThatThrownBy(() -> PumaOptions.from(c.withString("identify.puma.metric", "class-recall:3")))
        .isInstanceOf(LetheInputException.class).hasMessageContaining("identify.puma.metric")
        .hasMessageContaining("out of range");
    assertThatThrownBy(() -> PumaOptions.from(c.withString("identify.puma.metric", "class-recall:x")))
        .isInstanceOf(LetheInputException.class).hasMessageContaining("identify.puma.metric");
    assertThatThrownBy(() -> PumaOptions.from(c.withString("identify.puma.calibration-set", "train")))
        .isInstanceOf(LetheInputException.class).hasMessageContaining("identify.puma.calibration-set");
    PumaOptions onB = new PumaOptions("calibration", -1, "benchmark", 10, "cg");
    ExampleSet empty = benchmark.select(new int[0]);
    assertThatThrownBy(() -> new PumaInfluence(onB).prepare(new InfluenceInputs(model, fisher, query, train,
        train.size(), options("full"), 7).withBenchmark(empty)))
        .isInstanceOf(LetheInputException.class).hasMessageContaining("identify.puma.calibration-set")
        .hasMessageContaining("empty");
  }
}
