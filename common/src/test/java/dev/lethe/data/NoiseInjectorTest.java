package dev.lethe.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lethe.LetheInputException;
import java.util.List;
import org.junit.jupiter.api.Test;

class NoiseInjectorTest {
  private static final ExampleSet TRAIN = BundledData.train();

  private static NoiseOptions flips(double rate) {
    NoiseOptions none = NoiseOptions.none();
    return new NoiseOptions(new NoiseOptions.LabelFlip(rate, List.of(new int[] {0, 6}, new int[] {7, 9}), true),
        none.saltPepper(), none.gaussian(), none.fgsm());
  }

  @Test
  void flipsTheConfiguredRateOfEachPairedClassAndNothingElse() {
    ExampleSet noisy = NoiseInjector.apply(TRAIN, flips(0.2), 10, 42);
    int[] flipped = new int[10];
    for (int i = 0; i < noisy.size(); i++) {
      int from = noisy.originalLabel(i);
      assertThat(from).isEqualTo(TRAIN.label(i));
      assertThat(noisy.features(i)).isSameAs(TRAIN.features(i));
      if (noisy.corruption(i) == Corruption.LABEL_FLIP) {
        flipped[from]++;
        int expected = switch (from) {
          case 0 -> 6;
          case 6 -> 0;
          case 7 -> 9;
          case 9 -> 7;
          default -> -1;
        };
        assertThat(noisy.label(i)).isEqualTo(expected);
      } else {
        assertThat(noisy.corruption(i)).isEqualTo(Corruption.NONE);
        assertThat(noisy.label(i)).isEqualTo(from);
      }
    }
    // 300 examples per class: exactly round(0.2 * 300) = 60 flipped in each of the four source classes
    assertThat(flipped).containsExactly(60, 0, 0, 0, 0, 0, 60, 60, 0, 60);
  }

  @Test
  void isDeterministicForASeedAndIndependentOfRowOrder() {
    ExampleSet a = NoiseInjector.apply(TRAIN, flips(0.3), 10, 5);
    ExampleSet b = NoiseInjector.apply(TRAIN, flips(0.3), 10, 5);
    ExampleSet c = NoiseInjector.apply(TRAIN, flips(0.3), 10, 6);
    assertThat(a.labels()).isEqualTo(b.labels());
    assertThat(a.labels()).isNotEqualTo(c.labels());
    int[] reversed = new int[TRAIN.size()];
    for (int i = 0; i < reversed.length; i++) {
      reversed[i] = reversed.length - 1 - i;
    }
    ExampleSet r = NoiseInjector.apply(TRAIN.select(reversed), flips(0.3), 10, 5);
    for (int i = 0; i < reversed.length; i++) {
      assertThat(r.label(i)).isEqualTo(a.label(reversed[i]));
    }
  }

  @Test
  void inputNoiseTouchesOnlyTheChosenClassesAndFraction() {
    NoiseOptions o = new NoiseOptions(NoiseOptions.none().labelFlip(),
        new NoiseOptions.SaltPepper(0.5, List.of(3), 0.3), new NoiseOptions.Gaussian(0.1, List.of(5, 8), 0.4),
        NoiseOptions.none().fgsm());
    ExampleSet noisy = NoiseInjector.apply(TRAIN, o, 10, 11);
    int sp = 0;
    int gauss = 0;
    double changedShare = 0;
    for (int i = 0; i < noisy.size(); i++) {
      Corruption c = noisy.corruption(i);
      assertThat(noisy.label(i)).isEqualTo(TRAIN.label(i));
      if (c == Corruption.NONE) {
        assertThat(noisy.features(i)).isEqualTo(TRAIN.features(i));
        continue;
      }
      if (c == Corruption.SALT_PEPPER) {
        assertThat(TRAIN.label(i)).isEqualTo(3);
        sp++;
        int changed = 0;
        for (int j = 0; j < 784; j++) {
          float v = noisy.features(i)[j];
          if (v != TRAIN.features(i)[j]) {
            changed++;
            assertThat(v).isIn(0f, 1f);
          }
        }
        changedShare += changed / 784.0;
      } else {
        assertThat(c).isEqualTo(Corruption.GAUSSIAN);
        assertThat(TRAIN.label(i)).isIn(5, 8);
        gauss++;
        for (float v : noisy.features(i)) {
          assertThat(v).isBetween(0f, 1f);
        }
      }
    }
    assertThat(sp).isEqualTo(150);
    assertThat(gauss).isEqualTo(60);
    // about amount = 0.3 of the pixels are hit; some already had the drawn value (mostly black background)
    assertThat(changedShare / sp).isBetween(0.10, 0.30);
  }

  @Test
  void rejectsClassesOutsideTheRange() {
    NoiseOptions o = new NoiseOptions(NoiseOptions.none().labelFlip(),
        new NoiseOptions.SaltPepper(0.5, List.of(12), 0.3), NoiseOptions.none().gaussian(),
        NoiseOptions.none().fgsm());
    assertThatThrownBy(() -> NoiseInjector.apply(TRAIN, o, 10, 1)).isInstanceOf(LetheInputException.class)
        .hasMessageContaining("noise.salt-pepper.classes").hasMessageContaining("12");
    assertThatThrownBy(() -> new NoiseOptions.LabelFlip(-0.1, List.of(), true))
        .hasMessageContaining("noise.label-flip.rate");
  }
}
