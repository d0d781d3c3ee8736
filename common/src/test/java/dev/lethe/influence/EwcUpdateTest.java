package dev.lethe.influence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;

import dev.lethe.data.ExampleSet;
import dev.lethe.math.DiagonalFisher;
import dev.lethe.math.EmpiricalFisher;
import dev.lethe.math.LogLikelihood;
import dev.lethe.math.NetworkBytes;
import dev.lethe.math.TestNets;
import dev.lethe.model.Architecture;
import dev.lethe.model.ModelOptions;
import dev.lethe.model.Models;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

class EwcUpdateTest {
  private static MultiLayerNetwork thetaHat;
  private static DiagonalFisher fisher;
  private static ExampleSet train;

  @BeforeAll
  static void trainModel() {
    train = TestNets.randomSet(200, 6, 3, 1, 0);
    thetaHat = TestNets.mlp(6, 3, 2, DataType.DOUBLE);
    DataSet ds = new DataSet(dev.lethe.math.Batches.features(train, 0, 200, 0, DataType.DOUBLE),
        dev.lethe.math.Batches.oneHot(train.labels(), 0, 200, 3, 0, DataType.DOUBLE));
    for (int i = 0; i < 100; i++) {
      thetaHat.fit(ds);
    }
    fisher = EmpiricalFisher.compute(thetaHat, train);
  }

  private static EwcOptions options(double gamma) {
    // 8-row target: trained and validated on all rows
    return new EwcOptions(gamma, 1e-3, 1e-2, 4, 200, 10, 0.1);
  }

  @Test
  void learnRaisesTargetLikelihoodWithinThePenaltyBudget() {
    ExampleSet target = TestNets.randomSet(8, 6, 3, 99, 1000);
    INDArray before = thetaHat.params().dup();
    double lp0 = LogLikelihood.mean(thetaHat, target, 8);
    double previousDistance = 0;
    for (double gamma : new double[] {0.003, 0.03, 0.3}) {
      EwcUpdate.Result r = EwcUpdate.run(thetaHat, fisher, 200, target, EwcUpdate.Objective.LEARN,
          options(gamma), 5);
      assertThat(thetaHat.params()).isEqualTo(before);
      double lp1 = LogLikelihood.mean(r.model(), target, 8);
      INDArray delta = r.model().params().reshape(-1).sub(before.reshape(-1));
      double penalty = 0;
      for (int j = 0; j < fisher.size(); j++) {
        double dj = delta.getDouble(j);
        penalty += (fisher.values()[j] / gamma + 1e-3 / 2) * dj * dj;
      }
      double distance = delta.norm2Number().doubleValue();
      System.err.printf("gamma %.3g: mean log p(target) %.4f -> %.4f, penalty %.4g, ||delta|| %.4g,"
          + " epochs %d (best %d), %d ms%n", gamma, lp0, lp1, penalty, distance, r.epochsRun(), r.bestEpoch(),
          r.millis());
      assertThat(lp1).isGreaterThan(lp0);
      // J(theta*) >= J(theta_hat) = lp0 (validation = all rows) bounds the penalty by the likelihood gain
      assertThat(penalty).isLessThanOrEqualTo(lp1 - lp0 + 1e-12);
      assertThat(r.bestValidationObjective()).isCloseTo(lp1 - penalty, org.assertj.core.data.Offset.offset(1e-9));
      // the penalty keeps the move bounded: (lambda/2) ||delta||^2 <= penalty <= -lp0
      assertThat(distance).isLessThanOrEqualTo(Math.sqrt(2 * -lp0 / 1e-3));
      // larger gamma allows a larger move
      assertThat(distance).isGreaterThan(previousDistance);
      previousDistance = distance;
    }
  }

  @Test
  void unlearnLowersTargetLikelihood() {
    ExampleSet target = train.select(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19});
    EwcUpdate.Result r = EwcUpdate.run(thetaHat, fisher, 200, target, EwcUpdate.Objective.UNLEARN,
        new EwcOptions(0.3, 1e-3, 1e-2, 8, 50, 5, 0.2), 3);
    assertThat(LogLikelihood.mean(r.model(), target, 8)).isLessThan(LogLikelihood.mean(thetaHat, target, 8));
  }

  @Test
  void explicitValidationSetDrivesEarlyStoppingOnTheDataTermAlone() {
    ExampleSet target = train.select(java.util.stream.IntStream.range(0, 20).toArray());
    ExampleSet validation = train.select(java.util.stream.IntStream.range(100, 140).toArray());
    EwcUpdate.Result r = EwcUpdate.run(thetaHat, fisher, 200, target, EwcUpdate.Objective.UNLEARN, validation,
        EwcUpdate.Objective.LEARN, new EwcOptions(0.3, 1e-3, 1e-2, 8, 30, 3, 0.2), 3);
    double after = LogLikelihood.mean(r.model(), validation, 8);
    // the criterion is + mean log p(validation), without the penalty (tolerance: rounding of the double sums)
    assertThat(r.bestValidationObjective()).isCloseTo(after, org.assertj.core.data.Offset.offset(1e-12));
    // theta_hat (epoch 0) is a candidate, so the kept model is never worse on the validation rows
    assertThat(after).isGreaterThanOrEqualTo(LogLikelihood.mean(thetaHat, validation, 8));
    assertThatThrownBy(() -> EwcUpdate.run(thetaHat, fisher, 200, target, EwcUpdate.Objective.UNLEARN,
        validation.select(new int[0]), EwcUpdate.Objective.LEARN, EwcOptions.defaults(), 3))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("validation");
  }

  @Test
  void sameSeedGivesIdenticalParameters() {
    ExampleSet target = TestNets.randomSet(30, 6, 3, 98, 1000);
    EwcOptions o = new EwcOptions(0.03, 1e-3, 1e-2, 8, 30, 5, 0.2);
    INDArray a = EwcUpdate.run(thetaHat, fisher, 200, target, EwcUpdate.Objective.LEARN, o, 11).model().params();
    INDArray b = EwcUpdate.run(thetaHat, fisher, 200, target, EwcUpdate.Objective.LEARN, o, 11).model().params();
    INDArray c = EwcUpdate.run(thetaHat, fisher, 200, target, EwcUpdate.Objective.LEARN, o, 12).model().params();
    assertThat(a).isEqualTo(b);
    assertThat(a).isNotEqualTo(c);
  }

  /**
   * A float paper CNN, 40 random training rows with their Fisher, a 12-row Fq, and an EWC update of 3 epochs
   * validated on all of Fq.
   */
  private record CnnCase(MultiLayerNetwork cnn, ExampleSet d, ExampleSet query, DiagonalFisher f,
      InfluenceOptions o) {
    static CnnCase make() {
      MultiLayerNetwork cnn = Models.build(new ModelOptions(Architecture.CNN, 1, 28, 28, 10, List.of(), 3),
          DataType.FLOAT);
      ExampleSet d = TestNets.randomSet(40, 784, 10, 31, 0);
      return new CnnCase(cnn, d, TestNets.randomSet(12, 784, 10, 32, 5000), EmpiricalFisher.compute(cnn, d),
          InfluenceOptions.defaults().withEwc(new EwcOptions(100, 1e-6, 1e-3, 6, 3, 5, 0.0)));
    }
  }

  @Test
  void ewcInfluenceReportsFqsMeanLogLikelihoodInDoubleBeforeAndAfter() {
    // a float paper CNN: the diagnostics come from its parameters in double (FastCnn), not DL4J's float pass
    CnnCase c = CnnCase.make();
    MultiLayerNetwork cnn = c.cnn();
    ExampleSet query = c.query();
    PreparedInfluence p = new EwcInfluence().prepare(new InfluenceInputs(cnn, c.f(), query, null, 40, c.o(), 7));
    MultiLayerNetwork before = NetworkBytes.rebuild(NetworkBytes.configBytes(cnn),
        NetworkBytes.paramBytes(cnn.params()), DataType.DOUBLE);
    MultiLayerNetwork after = NetworkBytes.rebuild(NetworkBytes.configBytes(cnn),
        NetworkBytes.paramBytes(p.updatedModel().params()), DataType.DOUBLE);
    double lp0 = (double) p.diagnostics().get("queryMeanLogpBefore");
    double lp1 = (double) p.diagnostics().get("queryMeanLogpAfter");
    assertThat(lp0).isCloseTo(LogLikelihood.mean(before, query, 8), offset(1e-12));
    assertThat(lp1).isCloseTo(LogLikelihood.mean(after, query, 8), offset(1e-12));
    assertThat(lp0).isCloseTo(LogLikelihood.mean(cnn, query, 8), offset(1e-4)); // DL4J's float pass
    assertThat(lp1).isGreaterThan(lp0); // the update learned Fq (3 epochs, validated on all 12 rows)
  }

  @Test
  void ewcInfluenceWithTheFisherStagesLogLikelihoodsScoresAsWithTwoForwardPasses() throws Exception {
    CnnCase c = CnnCase.make();
    MultiLayerNetwork cnn = c.cnn();
    ExampleSet d = c.d();
    ExampleSet query = c.query();
    DiagonalFisher f = c.f();
    InfluenceOptions o = c.o();
    // the table as the fisher stage records it: from the forward pass of every row's gradient
    double[] ll = new double[d.size()];
    assertThat(dev.lethe.math.PerExampleGradients.forEachWithDoubleLogLik(cnn, d, ll, (r, g) -> { })).isTrue();
    String fp = NetworkBytes.fingerprint(cnn);
    dev.lethe.math.RowLogLikelihoods table = new dev.lethe.math.RowLogLikelihoods.Builder().add(d, ll)
        .build(fp, "fisher/logp.bin");
    PreparedInfluence cached = new EwcInfluence().prepare(new InfluenceInputs(cnn, f, query, null, 40, o, 7, table));
    PreparedInfluence plain = new EwcInfluence().prepare(new InfluenceInputs(cnn, f, query, null, 40, o, 7));
    assertThat(cached.diagnostics()).containsEntry("forwardPassesPerRow", 1)
        .containsEntry("logpBeforeFrom", "fisher stage");
    assertThat(plain.diagnostics()).containsEntry("forwardPassesPerRow", 2)
        .containsEntry("logpBeforeFrom", "scoring pass");
    assertThat(cached.updatedModel().params()).isEqualTo(plain.updatedModel().params());
    // the spec travels to executors serialised
    java.io.ByteArrayOutputStream bos = new java.io.ByteArrayOutputStream();
    try (java.io.ObjectOutputStream out = new java.io.ObjectOutputStream(bos)) {
      out.writeObject(cached.spec());
    }
    ScorerSpec shipped;
    try (java.io.ObjectInputStream in = new java.io.ObjectInputStream(
        new java.io.ByteArrayInputStream(bos.toByteArray()))) {
      shipped = (ScorerSpec) in.readObject();
    }
    // a block in another row order, as a partition would hold it: the same values to the bit
    ExampleSet block = d.select(new int[] {39, 4, 17, 0, 22, 8, 31});
    ScoredBlock a;
    ScoredBlock b;
    try (Scorer sa = shipped.open(); Scorer sb = plain.spec().open()) {
      a = sa.score(block);
      b = sb.score(block);
    }
    assertThat(a.score()).containsExactly(b.score());
    assertThat(a.logpBefore()).containsExactly(b.logpBefore());
    assertThat(a.logpAfter()).containsExactly(b.logpAfter());
    assertThat(a.score()[0]).isNotEqualTo(0.0);
    // a table of another model is bad input before the update runs
    dev.lethe.math.RowLogLikelihoods foreign = new dev.lethe.math.RowLogLikelihoods.Builder().add(d, ll)
        .build("another", "fisher/logp.bin");
    assertThatThrownBy(() -> new EwcInfluence().prepare(new InfluenceInputs(cnn, f, query, null, 40, o, 7, foreign)))
        .isInstanceOf(dev.lethe.LetheInputException.class).hasMessageContaining("fisher/logp.bin")
        .hasMessageContaining("another model");
  }

  @Test
  void stoppingOnAccuracyKeepsTheEpochWithTheBestValidationAccuracy() {
    // the failures of theta_hat on random rows (accuracy 0 at theta_hat), learnt with validation on all of them
    ExampleSet rows = TestNets.randomSet(60, 6, 3, 97, 1000);
    int[] wrong = java.util.stream.IntStream.range(0, rows.size()).filter(i -> EwcUpdate.accuracyInDouble(thetaHat,
        rows.select(new int[] {i}), 8) == 0).toArray();
    ExampleSet target = rows.select(wrong);
    assertThat(target.size()).isGreaterThanOrEqualTo(10);
    assertThat(EwcUpdate.accuracyInDouble(thetaHat, target, 8)).isZero();
    EwcOptions o = new EwcOptions(0.3, 1e-3, 1e-2, 8, 30, 3, 0, EwcOptions.StopOn.ACCURACY);
    EwcUpdate.Result r = EwcUpdate.run(thetaHat, fisher, 200, target, EwcUpdate.Objective.LEARN, o, 5);
    double acc = EwcUpdate.accuracyInDouble(r.model(), target, 8);
    // the criterion is the kept model's accuracy on the validation rows (here all of the target), exactly
    assertThat(r.bestValidationObjective()).isEqualTo(acc);
    assertThat(acc).isPositive();
    assertThat(r.bestEpoch()).isBetween(1, r.epochsRun());
    assertThat(r.epochsRun()).isLessThanOrEqualTo(30);
    // the objective criterion on the same update keeps an epoch by J: another record
    EwcUpdate.Result j = EwcUpdate.run(thetaHat, fisher, 200, target, EwcUpdate.Objective.LEARN,
        new EwcOptions(0.3, 1e-3, 1e-2, 8, 30, 3, 0), 5);
    assertThat(j.bestValidationObjective()).isNotEqualTo(acc);
    assertThat(EwcOptions.StopOn.parse(" accuracy")).isEqualTo(EwcOptions.StopOn.ACCURACY);
    assertThatThrownBy(() -> EwcOptions.StopOn.parse("loss")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("stopOn");
    assertThatThrownBy(() -> dev.lethe.config.Options.identifyEwc(dev.lethe.config.LetheConfig.load("", "test",
        List.of("identify.ewc.stop-on=loss")))).isInstanceOf(dev.lethe.LetheInputException.class)
        .hasMessageContaining("identify.ewc.stop-on");
  }

  @Test
  void optionsNameTheBadField() {
    assertThatThrownBy(() -> new EwcOptions(0, 1e-3, 1e-3, 64, 10, 5, 0.1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("gamma");
    assertThatThrownBy(() -> new EwcOptions(1, -1, 1e-3, 64, 10, 5, 0.1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lambda");
    assertThatThrownBy(() -> new EwcOptions(1, 1, 1e-3, 64, 10, 5, 1.0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("validationFraction");
    assertThatThrownBy(() -> InfluenceOptions.defaults().withCurvature("kfac", 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("curvature");
  }

  @Test
  void theJavaStepArithmeticEqualsNd4jsOpsBitForBit() {
    // g <- g * scale + c .* (p - anchor), then p <- p - g: FlatStep against the ND4J ops it replaces, in float and
    // in double, on values of mixed signs and magnitudes
    for (DataType type : List.of(DataType.FLOAT, DataType.DOUBLE)) {
      java.util.SplittableRandom rng = new java.util.SplittableRandom(31);
      int n = 1003;
      INDArray[] a = new INDArray[4];
      for (int k = 0; k < a.length; k++) {
        double[] v = new double[n];
        for (int j = 0; j < n; j++) {
          v[j] = rng.nextDouble(-1, 1) * Math.pow(10, rng.nextInt(-4, 3));
        }
        a[k] = org.nd4j.linalg.factory.Nd4j.create(v, new long[] {1, n}, DataType.DOUBLE).castTo(type);
      }
      INDArray params = a[0];
      INDArray anchor = a[1];
      INDArray c = a[2].mul(a[2]); // c >= 0, as (2/gamma) F + lambda
      INDArray g = a[3];
      double scale = -1.0 / 37;
      INDArray wantG = g.dup();
      wantG.muli(scale);
      wantG.addi(params.sub(anchor).muli(c).reshape(wantG.shape()));
      INDArray wantP = params.dup();
      wantP.subi(wantG.reshape(wantP.shape()));

      EwcUpdate.FlatStep step = EwcUpdate.FlatStep.of(params, anchor, c);
      assertThat(step).as("%s", type).isNotNull();
      assertThat(step.fits(g)).isTrue();
      assertThat(step.fits(g.castTo(type == DataType.FLOAT ? DataType.DOUBLE : DataType.FLOAT))).isFalse();
      step.penalise(g, scale);
      assertThat(g.castTo(DataType.DOUBLE).toDoubleVector()).as("%s gradient", type)
          .containsExactly(wantG.castTo(DataType.DOUBLE).toDoubleVector());
      step.step(g);
      assertThat(params.castTo(DataType.DOUBLE).toDoubleVector()).as("%s parameters", type)
          .containsExactly(wantP.castTo(DataType.DOUBLE).toDoubleVector());
    }
    // a strided view is not taken: the caller keeps ND4J's ops
    INDArray m = org.nd4j.linalg.factory.Nd4j.zeros(DataType.FLOAT, 4, 4);
    INDArray column = m.getColumn(1);
    assertThat(EwcUpdate.FlatStep.of(column, column.dup(), column.dup())).isNull();
  }

  @Test
  void oneAdamOpOnTheFlatGradientEqualsDl4jsUpdaterBitForBit() {
    // EwcUpdate applies Adam to the whole flat gradient in one op instead of DL4J's block-by-block updater: the
    // same values over several iterations, for the float paper CNN (several layers and parameter kinds) and a
    // double MLP
    MultiLayerNetwork cnn = EwcUpdate.trainableCopy(Models.build(new ModelOptions(Architecture.CNN, 1, 28, 28, 10,
        List.of(), 7), DataType.FLOAT), 1e-3);
    MultiLayerNetwork mlp = EwcUpdate.trainableCopy(thetaHat, 1e-2);
    for (MultiLayerNetwork net : List.of(cnn, mlp)) {
      DataType type = net.params().dataType();
      long n = net.numParams();
      if (net.getFlattenedGradients() == null) {
        net.initGradientsView();
      }
      INDArray view = net.getFlattenedGradients();
      org.nd4j.linalg.learning.GradientUpdater<?> adam = new org.nd4j.linalg.learning.config.Adam(
          net.getLayerWiseConfigurations().getConf(0).getLayer() instanceof org.deeplearning4j.nn.conf.layers.BaseLayer b
              ? ((org.nd4j.linalg.learning.config.Adam) b.getIUpdater()).getLearningRate() : Double.NaN)
          .instantiate(org.nd4j.linalg.factory.Nd4j.zeros(type, 1, 2 * n), true);
      java.util.SplittableRandom rng = new java.util.SplittableRandom(41);
      for (int it = 0; it < 4; it++) {
        double[] v = new double[(int) n];
        for (int j = 0; j < v.length; j++) {
          v[j] = rng.nextDouble(-1, 1) * Math.pow(10, rng.nextInt(-5, 2));
        }
        INDArray raw = org.nd4j.linalg.factory.Nd4j.create(v, view.shape(), DataType.DOUBLE).castTo(type);
        view.assign(raw);
        net.getUpdater().update(net, new org.deeplearning4j.nn.gradient.DefaultGradient(view), it, 1, 1,
            org.deeplearning4j.nn.workspace.LayerWorkspaceMgr.noWorkspaces());
        INDArray mine = raw.dup();
        adam.applyUpdater(mine, it, 1);
        assertThat(mine.castTo(DataType.DOUBLE).toDoubleVector()).as("%s iteration %d", type, it)
            .containsExactly(view.castTo(DataType.DOUBLE).toDoubleVector())
            .isNotEqualTo(raw.castTo(DataType.DOUBLE).toDoubleVector()); // an update, not the gradient
      }
    }
  }
}
