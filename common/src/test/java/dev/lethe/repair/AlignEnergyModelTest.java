package dev.lethe.repair;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lethe.LetheInputException;
import dev.lethe.config.LetheConfig;
import dev.lethe.data.Corruption;
import dev.lethe.data.ExampleSet;
import dev.lethe.model.Architecture;
import dev.lethe.model.ModelOptions;
import dev.lethe.model.Models;
import dev.lethe.model.Predictor;
import dev.lethe.model.TrainOptions;
import dev.lethe.model.Trainer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code repair.align.energy-model}: on a fixture where theta_hat has memorised the flipped labels C (an MLP with
 * more inputs than training rows, trained to interpolate D), theta_hat's energy disputes none of them, and a model
 * of the same architecture trained from scratch on D \ C restores them.
 *
 * <p>Fixture: {@value #N} rows in 3 classes whose class is in the first two features (means on a circle of radius
 * 6, unit noise) and {@value #NOISE} features of pure noise that let a network memorise any labelling; {@value #FLIPS}
 * rows of class 0 relabelled 1.
 */
class AlignEnergyModelTest {
  static final int N = 90;
  static final int NOISE = 118;
  static final int FLIPS = 9;
  static ExampleSet train;
  static ExampleSet culprits;
  static MultiLayerNetwork thetaHat;

  @BeforeAll
  static void fixture() {
    Random rng = new Random(33);
    int d = 2 + NOISE;
    long[] ids = new long[N];
    float[][] x = new float[N][d];
    int[] clean = new int[N];
    for (int i = 0; i < N; i++) {
      ids[i] = 1000 + i;
      clean[i] = i % 3;
      double angle = 2 * Math.PI * clean[i] / 3;
      x[i][0] = (float) (6 * Math.cos(angle) + rng.nextGaussian());
      x[i][1] = (float) (6 * Math.sin(angle) + rng.nextGaussian());
      for (int j = 2; j < d; j++) {
        x[i][j] = (float) rng.nextGaussian();
      }
    }
    int[] labels = clean.clone();
    Corruption[] corr = new Corruption[N];
    Arrays.fill(corr, Corruption.NONE);
    List<Integer> flipped = new ArrayList<>();
    for (int i = 0; i < N && flipped.size() < FLIPS; i++) {
      if (clean[i] == 0) {
        labels[i] = 1;
        corr[i] = Corruption.LABEL_FLIP;
        flipped.add(i);
      }
    }
    train = new ExampleSet(ids, x, labels, clean, corr, d);
    culprits = train.select(flipped.stream().mapToInt(Integer::intValue).toArray());
    // theta_hat: trained on all of D without early stopping until it interpolates it, flips included
    thetaHat = Models.build(new ModelOptions(Architecture.MLP, 1, 1, d, 3, List.of(64), 5));
    Trainer.fit(thetaHat, train, new TrainOptions(1e-2, 16, 10, 1, 0.0, 6));
  }

  static RepairInputs inputs(String energyModel) {
    // no margin: every culprit the energy model disputes is relabelled
    AlignOptions o = new AlignOptions(0, 0.03, 0.01, 0, 1, 0, AlignOptions.KEEP, energyModel,
        new AlignOptions.Retraining(new TrainOptions(1e-2, 16, 30, 3, 0.2, 8), 9));
    return new RepairInputs(thetaHat, null, train, culprits, culprits.select(new int[0]),
        RepairOptions.defaults().withAlign(o), 7);
  }

  @Test
  void thetaHatHasMemorisedTheFlips() {
    int[] predicted = Predictor.predict(thetaHat, train, 64);
    assertThat(Predictor.accuracy(predicted, train.labels())).isEqualTo(1.0);
    RepairReport.LabelChanges base = LabelAlignment.of(inputs(AlignOptions.BASE)).changes(true);
    assertThat(base.energyModel()).isEqualTo(AlignOptions.BASE);
    assertThat(base.changed()).isZero();
  }

  @Test
  void aModelRetrainedWithoutTheCulpritsRestoresTheirOriginalLabels() {
    Align align = new Align();
    RepairInputs in = align.prepare(inputs(AlignOptions.RETRAINED));
    LabelAlignment a = in.alignment();
    RepairReport.LabelChanges c = a.changes(true);
    System.err.printf("align (retrained energy): %d of %d culprit labels changed, %d restored, %d epochs%n",
        c.changed(), c.culprits(), c.restoredOriginal(), c.energyModelEpochs());
    assertThat(c.energyModel()).isEqualTo(AlignOptions.RETRAINED);
    assertThat(c.energyModelEpochs()).isPositive();
    assertThat(c.changed()).isEqualTo(FLIPS);
    assertThat(c.restoredOriginal()).isEqualTo(FLIPS);
    assertThat(c.changes()).allSatisfy(ch -> assertThat(ch.to()).isEqualTo(0));

    // computed once: a prepared input is kept as it is, and every setting's path reads its alignment
    assertThat(align.prepare(in)).isSameAs(in);
    assertThat(Align.alignment(in)).isSameAs(a);
    // deterministic: the same seeds give the same energy model and the same relabelling
    LabelAlignment again = LabelAlignment.of(inputs(AlignOptions.RETRAINED));
    assertThat(again.aligned().labels()).containsExactly(a.aligned().labels());
    // theta_hat's architecture with fresh parameters: the same whatever theta_hat's training was
    MultiLayerNetwork untrained = Models.build(new ModelOptions(Architecture.MLP, 1, 1, 2 + NOISE, 3, List.of(64), 5));
    MultiLayerNetwork fresh = EnergyModel.freshModel(thetaHat, 9);
    assertThat(fresh.params()).isEqualTo(EnergyModel.freshModel(untrained, 9).params());
    assertThat(fresh.params()).isNotEqualTo(thetaHat.params());
    assertThat(fresh.getLayerWiseConfigurations().getIterationCount()).isZero();
  }

  @Test
  void theEnergyModelKeyIsValidated() {
    LetheConfig bad = LetheConfig.load(null, null, List.of("repair.align.energy-model=theta-star"));
    assertThatThrownBy(() -> AlignOptions.from(bad)).isInstanceOf(LetheInputException.class)
        .hasMessageContaining("repair.align.energy-model").hasMessageContaining("theta-star");
    LetheConfig retrained = LetheConfig.load(null, null, List.of("repair.align.energy-model = Retrained",
        "seed = 5"));
    AlignOptions o = AlignOptions.from(retrained);
    assertThat(o.retrains()).isTrue();
    assertThat(o.retraining()).isEqualTo(AlignOptions.Retraining.defaults(5));
  }
}
