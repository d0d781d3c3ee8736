package dev.lethe.influence;

import static dev.lethe.math.SoftmaxRegressionReference.fit;
import static dev.lethe.math.SoftmaxRegressionReference.gradLogp;
import static dev.lethe.math.SoftmaxRegressionReference.logp;
import static dev.lethe.math.SoftmaxRegressionReference.network;
import static dev.lethe.math.SoftmaxRegressionReference.predict;
import static dev.lethe.math.SoftmaxRegressionReference.sample;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lethe.LetheInputException;
import dev.lethe.data.ExampleSet;
import dev.lethe.math.DiagonalFisher;
import dev.lethe.math.NetworkBytes;
import dev.lethe.model.ModelStore;
import dev.lethe.model.TrainingCheckpoints;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * TracIn, self-influence and loss on the convex fixture (softmax regression on 2-D Gaussian classes, exact fit):
 * with one checkpoint at theta_hat, tracin equals linear influence with the identity as curvature (Fisher 0,
 * damping 1, gamma 1) times the learning rate; with identify.tracin.normalize = cosine, tracin equals the lr-weighted
 * sum of cosines computed directly (and linear influence with identify.linear.normalize = cosine its plain score over
 * both norms); self-influence and loss equal closed forms of the reference model.
 */
class TracInTest {
  /** Relative tolerance of a score against its closed form (double arithmetic on both sides), with a floor. */
  private static final double REL = 1e-9;
  private static final double ABS = 1e-12;
  private static final double LR = 0.01;

  static ExampleSet train;
  static ExampleSet failures;
  static double[] thetaHat;
  static MultiLayerNetwork model;

  @BeforeAll
  static void fixture() {
    Random rng = new Random(31);
    train = sample(rng, 120, 0);
    thetaHat = fit(train, null, new double[dev.lethe.math.SoftmaxRegressionReference.P]);
    ExampleSet test = sample(rng, 300, 10_000);
    int[] wrong = IntStream.range(0, test.size()).filter(i -> predict(thetaHat, test.features(i)) != test.label(i))
        .toArray();
    failures = test.select(wrong);
    model = network(thetaHat);
  }

  private static TrainingCheckpoints oneCheckpoint() {
    return new TrainingCheckpoints(NetworkBytes.configBytes(model), ModelStore.fingerprint(model),
        List.of(new TrainingCheckpoints.Checkpoint(1, LR, NetworkBytes.paramBytes(model.params()))));
  }

  private static InfluenceInputs inputs(InfluenceOptions o) {
    return new InfluenceInputs(model, new DiagonalFisher(new double[(int) model.numParams()], train.size(),
        NetworkBytes.fingerprint(model)), failures, train, train.size(), o, 7);
  }

  private static ScoredBlock score(InfluenceMethod m, InfluenceInputs in) {
    PreparedInfluence p = m.prepare(in);
    ScoredBlock whole = p.spec().open().score(train);
    // blocks of 17 rows give the very same values, also after Java serialisation (as shipped to executors)
    Scorer sc = ConvexInfluenceCheckTest.roundTrip(p.spec()).open();
    double[] parts = new double[train.size()];
    for (int from = 0; from < train.size(); from += 17) {
      int[] rows = IntStream.range(from, Math.min(train.size(), from + 17)).toArray();
      double[] s = sc.score(train.select(rows)).score();
      for (int k = 0; k < rows.length; k++) {
        parts[rows[k]] = s[k];
      }
    }
    assertThat(parts).isEqualTo(whole.score());
    return whole;
  }

  private static void assertClose(double actual, double expected, String what) {
    assertThat(Math.abs(actual - expected)).as(what + ": %s vs %s", actual, expected)
        .isLessThanOrEqualTo(Math.max(REL * Math.abs(expected), ABS));
  }

  @Test
  void tracinWithOneCheckpointIsLinearInfluenceWithIdentityCurvatureTimesTheLearningRate() {
    assertThat(failures.size()).isGreaterThan(5);
    // (F + damping I) = I with the zero Fisher diagonal and damping 1; gamma 1
    InfluenceOptions identity = InfluenceOptions.defaults().withCurvature(InfluenceOptions.DIAGONAL, 1.0);
    identity = new InfluenceOptions(identity.ewc(), 1.0, identity.curvature(), identity.damping(),
        identity.cgMaxIterations(), identity.cgTolerance(), identity.lissaScale(), identity.lissaDepth(),
        identity.lissaRepeats(), identity.lissaBatchSize(), identity.scoreBatchSize());
    double[] linear = score(LinearInfluence.cg(), inputs(identity)).score();
    ScoredBlock tracin = score(TracInInfluence.tracin(), inputs(identity).withCheckpoints(oneCheckpoint()));
    int positive = 0;
    for (int i = 0; i < train.size(); i++) {
      assertClose(tracin.score()[i], LR * linear[i], "tracin of row " + i);
      assertClose(tracin.logpBefore()[i], logp(thetaHat, train.features(i), train.label(i)), "log p of row " + i);
      positive += tracin.score()[i] > 0 ? 1 : 0;
    }
    // and against the closed form: -lr grad log p(z) . sum_q grad log p(q)
    double[] q = new double[thetaHat.length];
    for (int j = 0; j < failures.size(); j++) {
      double[] g = gradLogp(thetaHat, failures.features(j), failures.label(j));
      for (int p = 0; p < q.length; p++) {
        q[p] += g[p];
      }
    }
    for (int i = 0; i < train.size(); i++) {
      double[] g = gradLogp(thetaHat, train.features(i), train.label(i));
      double dot = 0;
      for (int p = 0; p < q.length; p++) {
        dot += g[p] * q[p];
      }
      assertClose(tracin.score()[i], -LR * dot, "tracin closed form of row " + i);
    }
    // both signs occur, so the sign convention is tested, not only the magnitude
    assertThat(positive).isBetween(1, train.size() - 1);
  }

  @Test
  void cosineTracinIsTheLearningRateWeightedSumOfCosines() {
    // two distinct checkpoints with distinct learning rates: theta_hat / 2 at lr2, theta_hat at LR
    double lr2 = 0.003;
    double[] half = new double[thetaHat.length];
    for (int p = 0; p < half.length; p++) {
      half[p] = thetaHat[p] / 2;
    }
    double[][] thetas = {half, thetaHat};
    double[] rates = {lr2, LR};
    TrainingCheckpoints two = new TrainingCheckpoints(NetworkBytes.configBytes(model), ModelStore.fingerprint(model),
        List.of(new TrainingCheckpoints.Checkpoint(2, lr2, NetworkBytes.paramBytes(network(half).params())),
            oneCheckpoint().checkpoints().get(0)));
    InfluenceInputs in = inputs(InfluenceOptions.defaults()).withCheckpoints(two);
    PreparedInfluence prepared = TracInInfluence.tracin(GradientNormalization.COSINE).prepare(in);
    assertThat(prepared.diagnostics()).containsEntry("normalize", "cosine");
    double[] cosine = score(TracInInfluence.tracin(GradientNormalization.COSINE), in).score();
    double[] plain = score(TracInInfluence.tracin(), in).score();
    int positive = 0;
    for (int i = 0; i < train.size(); i++) {
      double expected = 0;
      for (int c = 0; c < thetas.length; c++) {
        double[] q = new double[thetaHat.length];
        for (int j = 0; j < failures.size(); j++) {
          double[] g = gradLogp(thetas[c], failures.features(j), failures.label(j));
          for (int p = 0; p < q.length; p++) {
            q[p] += g[p];
          }
        }
        double[] g = gradLogp(thetas[c], train.features(i), train.label(i));
        double dot = 0;
        double gg = 0;
        double qq = 0;
        for (int p = 0; p < q.length; p++) {
          dot += g[p] * q[p];
          gg += g[p] * g[p];
          qq += q[p] * q[p];
        }
        expected -= rates[c] * dot / Math.sqrt(gg * qq);
      }
      assertClose(cosine[i], expected, "cosine tracin of row " + i);
      // each checkpoint adds at most its learning rate in absolute value
      assertThat(Math.abs(cosine[i])).isLessThanOrEqualTo(lr2 + LR + ABS);
      positive += cosine[i] > 0 ? 1 : 0;
    }
    assertThat(positive).isBetween(1, train.size() - 1);
    // the normalisation changes the scores, not only their scale
    assertThat(cosine).isNotEqualTo(plain);
  }

  @Test
  void normalizeIsReadFromItsKeyAndABadValueIsBadInputNamingIt() {
    dev.lethe.config.LetheConfig cosine = dev.lethe.config.LetheConfig.load("", "test",
        List.of("identify.tracin.normalize=Cosine"));
    assertThat(((TracInInfluence) InfluenceMethods.byName("tracin", cosine)).normalize())
        .isEqualTo(GradientNormalization.COSINE);
    assertThat(((TracInInfluence) InfluenceMethods.byName("tracin", dev.lethe.config.LetheConfig.load("", "test",
        List.of()))).normalize()).isEqualTo(GradientNormalization.NONE);
    // self-influence ignores the key
    assertThat(((TracInInfluence) InfluenceMethods.byName("self-influence", cosine)).normalize())
        .isEqualTo(GradientNormalization.NONE);
    assertThatThrownBy(() -> InfluenceMethods.byName("tracin", dev.lethe.config.LetheConfig.load("", "test",
        List.of("identify.tracin.normalize=l2")))).isInstanceOf(LetheInputException.class)
        .hasMessageContaining("config key 'identify.tracin.normalize'").hasMessageContaining("'l2'");
  }

  @Test
  void cosineLinearInfluenceIsThePlainScoreOverTheGradientAndSolutionNorms() {
    InfluenceInputs in = inputs(InfluenceOptions.defaults().withCurvature(InfluenceOptions.DIAGONAL, 1.0));
    dev.lethe.config.LetheConfig c = dev.lethe.config.LetheConfig.load("", "test",
        List.of("identify.linear.normalize=cosine"));
    LinearInfluence cosine = (LinearInfluence) InfluenceMethods.byName("linear-cg", c);
    assertThat(cosine.normalize()).isEqualTo(GradientNormalization.COSINE);
    PreparedInfluence prepared = cosine.prepare(in);
    assertThat(prepared.diagnostics()).containsEntry("normalize", "cosine");
    double sNorm = (Double) prepared.diagnostics().get("solutionNorm");
    double[] plain = score(LinearInfluence.cg(), in).score();
    double[] renormalised = score(cosine, in).score();
    double gamma = in.options().linearGamma();
    for (int i = 0; i < train.size(); i++) {
      double[] g = gradLogp(thetaHat, train.features(i), train.label(i));
      double gg = 0;
      for (double v : g) {
        gg += v * v;
      }
      assertClose(renormalised[i], plain[i] / (Math.sqrt(gg) * sNorm), "cosine linear-cg of row " + i);
      assertThat(Math.abs(renormalised[i])).isLessThanOrEqualTo(gamma + ABS);
    }
    assertThatThrownBy(() -> InfluenceMethods.byName("linear-lissa", dev.lethe.config.LetheConfig.load("", "test",
        List.of("identify.linear.normalize=unit")))).isInstanceOf(LetheInputException.class)
        .hasMessageContaining("config key 'identify.linear.normalize'");
  }

  @Test
  void selfInfluenceSumsTheSquaredGradientNormsAndLossIsMinusLogLikelihood() {
    double lr2 = 0.003;
    TrainingCheckpoints two = new TrainingCheckpoints(NetworkBytes.configBytes(model), ModelStore.fingerprint(model),
        List.of(new TrainingCheckpoints.Checkpoint(2, lr2, NetworkBytes.paramBytes(model.params())),
            oneCheckpoint().checkpoints().get(0)));
    double[] self = score(TracInInfluence.selfInfluence(), inputs(InfluenceOptions.defaults()).withCheckpoints(two))
        .score();
    double[] loss = score(new LossInfluence(), inputs(InfluenceOptions.defaults())).score();
    for (int i = 0; i < train.size(); i++) {
      double[] g = gradLogp(thetaHat, train.features(i), train.label(i));
      double norm2 = 0;
      for (double v : g) {
        norm2 += v * v;
      }
      assertClose(self[i], (lr2 + LR) * norm2, "self-influence of row " + i);
      assertClose(loss[i], -logp(thetaHat, train.features(i), train.label(i)), "loss of row " + i);
    }
  }

  @Test
  void tracinWithoutCheckpointsIsBadInput() {
    assertThatThrownBy(() -> TracInInfluence.tracin().prepare(inputs(InfluenceOptions.defaults())))
        .isInstanceOf(LetheInputException.class).hasMessageContaining("train.checkpoints");
  }

  @Test
  void checkpointsRoundTripAndKeepEvenlySpacedEpochsEndingAtTheBest() {
    assertThat(TrainingCheckpoints.chosenEpochs(12, 5)).containsExactly(2, 5, 7, 10, 12);
    assertThat(TrainingCheckpoints.chosenEpochs(3, 5)).containsExactly(1, 2, 3);
    assertThat(TrainingCheckpoints.chosenEpochs(1, 5)).containsExactly(1);
    TrainingCheckpoints c = oneCheckpoint();
    byte[] bytes = c.toBytes();
    TrainingCheckpoints back = TrainingCheckpoints.fromBytes(bytes, "cp");
    assertThat(back.modelFingerprint()).isEqualTo(c.modelFingerprint());
    assertThat(back.checkpoints()).hasSize(1);
    assertThat(back.checkpoints().get(0).learningRate()).isEqualTo(LR);
    assertThat(ModelStore.fingerprint(back.network(0, model.params().dataType()))).isEqualTo(c.modelFingerprint());
    bytes[bytes.length / 2] ^= 1;
    assertThatThrownBy(() -> TrainingCheckpoints.fromBytes(bytes, "cp")).isInstanceOf(LetheInputException.class)
        .hasMessageContaining("cp: corrupt checkpoints file");
  }
}
