package dev.lethe.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;

import dev.lethe.LetheInputException;
import dev.lethe.Seeds;
import dev.lethe.config.LetheConfig;
import dev.lethe.config.Options;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** FGSM poisoning at {@code prepare}, on the bundled Fashion-MNIST subset (300 training images per class). */
class FgsmTest {
  private static final ExampleSet TRAIN = BundledData.train();
  private static final long SEED = 42;
  private static final double EPSILON = 0.1;
  private static final int EPOCHS = 10;
  /** Float rounding of x - epsilon (pixels are floats in [0, 1]). */
  private static final double PIXEL_TOLERANCE = 1e-6;
  private static final List<int[]> PAIRS = List.of(new int[] {0, 6}, new int[] {2, 4}, new int[] {7, 9});

  private static ExampleSet poisoned;
  /** The surrogate NoiseInjector fits: on the clean set, seeded by the "noise.fgsm" tag. */
  private static FgsmPoisoning.Surrogate surrogate;

  private static NoiseOptions fgsm(double fraction) {
    NoiseOptions none = NoiseOptions.none();
    return new NoiseOptions(none.labelFlip(), none.saltPepper(), none.gaussian(),
        new NoiseOptions.Fgsm(fraction, PAIRS, EPSILON, EPOCHS, NoiseOptions.FgsmLabel.ORIGINAL));
  }

  private static int target(int source) {
    return PAIRS.stream().filter(p -> p[0] == source).findFirst().orElseThrow()[1];
  }

  /** The rows NoiseInjector poisoned. */
  private static int[] poisonedRows() {
    return IntStream.range(0, poisoned.size()).filter(i -> poisoned.corruption(i) == Corruption.FGSM).toArray();
  }

  @BeforeAll
  static void poison() {
    poisoned = NoiseInjector.apply(TRAIN, fgsm(0.3), 10, SEED);
    surrogate = FgsmPoisoning.fit(TRAIN, 10, EPOCHS, Seeds.derive(SEED, "noise.fgsm"));
  }

  @Test
  void poisonsTheConfiguredFractionOfEachSourceClassAndKeepsTheLabels() {
    int[] count = new int[10];
    for (int i = 0; i < poisoned.size(); i++) {
      assertThat(poisoned.label(i)).isEqualTo(TRAIN.label(i));
      assertThat(poisoned.originalLabel(i)).isEqualTo(TRAIN.label(i));
      if (poisoned.corruption(i) == Corruption.FGSM) {
        count[poisoned.label(i)]++;
        assertThat(poisoned.features(i)).isNotEqualTo(TRAIN.features(i));
      } else {
        assertThat(poisoned.corruption(i)).isEqualTo(Corruption.NONE);
        assertThat(poisoned.features(i)).isSameAs(TRAIN.features(i));
      }
    }
    // round(0.3 * 300) = 90 images of each source class, none of any other class
    assertThat(count).containsExactly(90, 0, 90, 0, 0, 0, 0, 90, 0, 0);
    assertThat(fgsm(0.3).any()).isTrue();
    assertThat(fgsm(0.0).any()).isFalse();
  }

  @Test
  void movesEveryPixelByEpsilonAgainstTheTargetGradientUnlessClipped() {
    long moved = 0;
    long clipped = 0;
    long flat = 0;
    long pixels = 0;
    for (int i : poisonedRows()) {
      float[] x = TRAIN.features(i);
      float[] y = poisoned.features(i);
      double[] g = surrogate.inputGradient(x, target(poisoned.label(i)));
      for (int j = 0; j < x.length; j++) {
        pixels++;
        double delta = (double) y[j] - x[j];
        assertThat(Math.abs(delta)).isLessThanOrEqualTo(EPSILON + PIXEL_TOLERANCE);
        assertThat(y[j]).isBetween(0f, 1f);
        if (g[j] == 0) {
          flat++;
          assertThat(y[j]).isEqualTo(x[j]);
        } else if (y[j] == 0f || y[j] == 1f) {
          clipped++;
          // clipping only shortens a step, never turns it round
          assertThat(delta * g[j]).isLessThanOrEqualTo(0.0);
        } else {
          moved++;
          assertThat(Math.abs(delta)).isCloseTo(EPSILON, offset(PIXEL_TOLERANCE));
          assertThat(Math.signum(delta)).isEqualTo(-Math.signum(g[j]));
        }
      }
    }
    System.out.printf("FGSM pixels of %d poisoned images: %.1f%% moved by epsilon, %.1f%% at 0 or 1, %.1f%% with a"
        + " zero surrogate gradient%n", pixels / 784, 100.0 * moved / pixels, 100.0 * clipped / pixels,
        100.0 * flat / pixels);
    // most pixels of a Fashion-MNIST image are interior (not at 0 or 1 after the step)
    assertThat((double) moved / pixels).isGreaterThan(0.3);
  }

  @Test
  void raisesTheSurrogateLogProbabilityOfTheTarget() {
    int rows = 0;
    int raised = 0;
    double gain = 0;
    for (int i : poisonedRows()) {
      int b = target(poisoned.label(i));
      double before = surrogate.logProbabilities(TRAIN.features(i))[b];
      double after = surrogate.logProbabilities(poisoned.features(i))[b];
      rows++;
      raised += after > before ? 1 : 0;
      gain += after - before;
    }
    double share = (double) raised / rows;
    System.out.printf("FGSM: log p(target) rose on %d of %d poisoned images (%.1f%%), by %.3f on average%n", raised,
        rows, 100 * share, gain / rows);
    // one signed step on a linear surrogate: the first-order gain is epsilon ||g||_1; allow 5% overshoot or clipping
    assertThat(share).isGreaterThanOrEqualTo(0.95);
  }

  @Test
  void surrogateClassifiesTheCleanTestSet() {
    ExampleSet test = BundledData.test();
    double accuracy = surrogate.accuracy(test);
    System.out.printf("FGSM surrogate (softmax regression, %d epochs): %.2f%% on the %d bundled test images%n",
        EPOCHS, 100 * accuracy, test.size());
    assertThat(accuracy).isGreaterThanOrEqualTo(0.70);
  }

  @Test
  void isBitwiseReproducibleAndIndependentOfRowOrder() {
    ExampleSet again = NoiseInjector.apply(BundledData.train(), fgsm(0.3), 10, SEED);
    assertThat(again.corruptions()).isEqualTo(poisoned.corruptions());
    for (int i = 0; i < again.size(); i++) {
      assertThat(again.features(i)).isEqualTo(poisoned.features(i));
    }
    int n = TRAIN.size();
    int[] reversed = new int[n];
    for (int i = 0; i < n; i++) {
      reversed[i] = n - 1 - i;
    }
    ExampleSet r = NoiseInjector.apply(TRAIN.select(reversed), fgsm(0.3), 10, SEED);
    for (int i = 0; i < n; i++) {
      assertThat(r.corruption(i)).isEqualTo(poisoned.corruption(reversed[i]));
      assertThat(r.features(i)).isEqualTo(poisoned.features(reversed[i]));
    }
    ExampleSet other = NoiseInjector.apply(TRAIN, fgsm(0.3), 10, SEED + 1);
    assertThat(other.corruptions()).isNotEqualTo(poisoned.corruptions());
  }

  @Test
  void poisonsOnlyRowsTheEarlierKindsLeftClean() {
    NoiseOptions none = NoiseOptions.none();
    NoiseOptions o = new NoiseOptions(new NoiseOptions.LabelFlip(0.4, List.of(new int[] {0, 6}), false),
        new NoiseOptions.SaltPepper(0.2, List.of(2), 0.3), none.gaussian(),
        new NoiseOptions.Fgsm(0.5, PAIRS, EPSILON, EPOCHS, NoiseOptions.FgsmLabel.ORIGINAL));
    ExampleSet noisy = NoiseInjector.apply(TRAIN, o, 10, SEED);
    int[][] counts = new int[10][Corruption.values().length];
    for (int i = 0; i < noisy.size(); i++) {
      counts[noisy.originalLabel(i)][noisy.corruption(i).ordinal()]++;
    }
    // class 0: 120 flipped, then round(0.5 * 300) = 150 of the 180 still clean; class 2: 60 salt-and-pepper, 150 FGSM
    assertThat(counts[0][Corruption.LABEL_FLIP.ordinal()]).isEqualTo(120);
    assertThat(counts[0][Corruption.FGSM.ordinal()]).isEqualTo(150);
    assertThat(counts[2][Corruption.SALT_PEPPER.ordinal()]).isEqualTo(60);
    assertThat(counts[2][Corruption.FGSM.ordinal()]).isEqualTo(150);
    assertThat(counts[7][Corruption.FGSM.ordinal()]).isEqualTo(150);
  }

  @Test
  void rejectsInvalidOptionsNamingTheKey() {
    Consumer<String[]> rejects = kv -> assertThatThrownBy(() -> Options.noise(LetheConfig.load(null, null,
        List.of(kv[0] + "=" + kv[1])))).as(kv[0] + "=" + kv[1]).isInstanceOf(LetheInputException.class)
        .hasMessageContaining(kv[0]);
    rejects.accept(new String[] {"noise.fgsm.fraction", "1.5"});
    rejects.accept(new String[] {"noise.fgsm.fraction", "-0.1"});
    rejects.accept(new String[] {"noise.fgsm.epsilon", "0"});
    rejects.accept(new String[] {"noise.fgsm.epsilon", "1.2"});
    rejects.accept(new String[] {"noise.fgsm.surrogate-epochs", "0"});
    rejects.accept(new String[] {"noise.fgsm.pairs", "[[3, 3]]"});
    rejects.accept(new String[] {"noise.fgsm.pairs", "[[0, 6], [0, 4]]"});
    rejects.accept(new String[] {"noise.fgsm.pairs", "[[0, 6, 4]]"});
    rejects.accept(new String[] {"noise.fgsm.label", "target"});
    assertThat(Options.noise(LetheConfig.load(null, null, List.of())).fgsm().label())
        .isEqualTo(NoiseOptions.FgsmLabel.VICTIM);
    // a pair back and forth is two sources with one target each
    assertThat(Options.noise(LetheConfig.load(null, null, List.of("noise.fgsm.pairs=[[0, 6], [6, 0]]")))
        .fgsm().pairs()).hasSize(2);

    NoiseOptions outside = new NoiseOptions(NoiseOptions.none().labelFlip(), NoiseOptions.none().saltPepper(),
        NoiseOptions.none().gaussian(), new NoiseOptions.Fgsm(0.1, List.of(new int[] {0, 12}), EPSILON, EPOCHS,
            NoiseOptions.FgsmLabel.VICTIM));
    assertThatThrownBy(() -> NoiseInjector.apply(TRAIN, outside, 10, SEED)).isInstanceOf(LetheInputException.class)
        .hasMessageContaining("noise.fgsm.pairs").hasMessageContaining("12");
  }

  @Test
  void victimLabelsAreTheSurrogatesPredictionAndDifferWhereverTheAttackSucceeded() {
    NoiseOptions none = NoiseOptions.none();
    NoiseOptions o = new NoiseOptions(none.labelFlip(), none.saltPepper(), none.gaussian(),
        new NoiseOptions.Fgsm(0.3, PAIRS, EPSILON, EPOCHS, NoiseOptions.FgsmLabel.VICTIM));
    ExampleSet victim = NoiseInjector.apply(TRAIN, o, 10, SEED);
    int succeeded = 0;
    int poisonedCount = 0;
    for (int i = 0; i < victim.size(); i++) {
      // the same rows and images as with the original labels; only the labels of poisoned rows may change
      assertThat(victim.corruption(i)).isEqualTo(poisoned.corruption(i));
      assertThat(victim.features(i)).isEqualTo(poisoned.features(i));
      assertThat(victim.originalLabel(i)).isEqualTo(TRAIN.label(i));
      if (victim.corruption(i) != Corruption.FGSM) {
        assertThat(victim.label(i)).isEqualTo(TRAIN.label(i));
        continue;
      }
      poisonedCount++;
      int predicted = surrogate.predict(victim.features(i));
      assertThat(victim.label(i)).isEqualTo(predicted);
      if (predicted != TRAIN.label(i)) {
        succeeded++;
        assertThat(victim.label(i)).isNotEqualTo(victim.originalLabel(i));
      }
    }
    assertThat(poisonedCount).isEqualTo(270);
    // the step must fool the surrogate on some images, or the test would check nothing
    assertThat(succeeded).isPositive();
  }
}
