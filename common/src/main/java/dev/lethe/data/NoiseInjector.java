package dev.lethe.data;

import dev.lethe.LetheInputException;
import dev.lethe.Seeds;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Injects the configured noise into a training set and records it per row.
 *
 * <p>Which rows are corrupted is decided per class: the {@code round(rate * n_c)} rows of class c (by original
 * label) with the smallest keys {@code Seeds.derive(seed, kind, id)} are chosen. The count is therefore exact,
 * and the choice depends only on the seed and the ids, not on row order. The kinds are applied in this order:
 * label flips, salt-and-pepper, Gaussian, FGSM; each only touches rows that are still clean, so each row carries at
 * most one corruption and the {@code corruption} column is unambiguous. Pixel noise draws from a generator seeded by
 * (seed, kind, id). FGSM poisoning ({@link FgsmPoisoning}) moves images of each pair's source class towards its
 * target class against a softmax-regression surrogate fitted on the training set as given (before any noise), and
 * labels each poisoned image with the surrogate's prediction for it ({@code noise.fgsm.label = victim}) or keeps its
 * label ({@code original}).
 */
public final class NoiseInjector {
  private NoiseInjector() {}

  /**
   * @param numClasses labels and configured classes must lie in [0, numClasses)
   * @return a new example set (the input is not modified); features of untouched rows are shared
   */
  public static ExampleSet apply(ExampleSet set, NoiseOptions options, int numClasses, long seed) {
    checkClasses(options, numClasses);
    int n = set.size();
    int[] labels = set.labels().clone();
    Corruption[] corruption = set.corruptions().clone();
    float[][] features = set.features().clone();

    NoiseOptions.LabelFlip flip = options.labelFlip();
    if (flip.rate() > 0) {
      int[] target = new int[numClasses];
      Arrays.fill(target, -1);
      for (int[] p : flip.pairs()) {
        target[p[0]] = p[1];
        if (flip.symmetric()) {
          target[p[1]] = p[0];
        }
      }
      for (int c = 0; c < numClasses; c++) {
        if (target[c] < 0) {
          continue;
        }
        for (int row : choose(set, corruption, c, flip.rate(), Seeds.derive(seed, "noise.label-flip"))) {
          labels[row] = target[c];
          corruption[row] = Corruption.LABEL_FLIP;
        }
      }
    }

    NoiseOptions.SaltPepper sp = options.saltPepper();
    if (sp.fraction() > 0) {
      long s = Seeds.derive(seed, "noise.salt-pepper");
      for (int c : sp.classes()) {
        for (int row : choose(set, corruption, c, sp.fraction(), s)) {
          SplittableRandom rnd = new SplittableRandom(Seeds.derive(s, "pixels", set.id(row)));
          float[] f = features[row].clone();
          for (int j = 0; j < f.length; j++) {
            if (rnd.nextDouble() < sp.amount()) {
              f[j] = rnd.nextBoolean() ? 1f : 0f;
            }
          }
          features[row] = f;
          corruption[row] = Corruption.SALT_PEPPER;
        }
      }
    }

    NoiseOptions.Gaussian g = options.gaussian();
    if (g.fraction() > 0) {
      long s = Seeds.derive(seed, "noise.gaussian");
      for (int c : g.classes()) {
        for (int row : choose(set, corruption, c, g.fraction(), s)) {
          SplittableRandom rnd = new SplittableRandom(Seeds.derive(s, "pixels", set.id(row)));
          float[] f = features[row].clone();
          for (int j = 0; j < f.length; j++) {
            f[j] = (float) Math.min(1.0, Math.max(0.0, f[j] + g.sigma() * gaussian(rnd)));
          }
          features[row] = f;
          corruption[row] = Corruption.GAUSSIAN;
        }
      }
    }

    NoiseOptions.Fgsm fgsm = options.fgsm();
    if (fgsm.fraction() > 0 && !fgsm.pairs().isEmpty()) {
      long s = Seeds.derive(seed, "noise.fgsm");
      FgsmPoisoning.Surrogate surrogate = FgsmPoisoning.fit(set, numClasses, fgsm.surrogateEpochs(), s);
      for (int[] p : fgsm.pairs()) {
        for (int row : choose(set, corruption, p[0], fgsm.fraction(), s)) {
          features[row] = surrogate.perturb(features[row], p[1], fgsm.epsilon());
          if (fgsm.label() == NoiseOptions.FgsmLabel.VICTIM) {
            labels[row] = surrogate.predict(features[row]);
          }
          corruption[row] = Corruption.FGSM;
        }
      }
    }
    return new ExampleSet(set.ids(), features, labels, set.originalLabels(), corruption, set.numFeatures());
  }

  /**
   * The rows of original class {@code c} still clean, of which the {@code round(fraction * n_c)} with the
   * smallest per-id keys are returned (n_c counts every row of class c, clean or not).
   */
  private static List<Integer> choose(ExampleSet set, Corruption[] corruption, int c, double fraction, long seed) {
    List<Integer> rows = new ArrayList<>();
    int total = 0;
    for (int i = 0; i < set.size(); i++) {
      if (set.originalLabel(i) == c) {
        total++;
        if (corruption[i] == Corruption.NONE) {
          rows.add(i);
        }
      }
    }
    int want = (int) Math.min(rows.size(), Math.round(fraction * total));
    rows.sort(Comparator.comparingLong((Integer i) -> Seeds.derive(seed, "choose", set.id(i)))
        .thenComparingLong(set::id));
    return rows.subList(0, want);
  }

  private static double gaussian(SplittableRandom rnd) {
    // Box-Muller; deterministic for the generator's state (java.util.Random#nextGaussian is not on SplittableRandom)
    double u1 = 1.0 - rnd.nextDouble();
    double u2 = rnd.nextDouble();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** The classes of every kind of noise that is switched on (a kind at rate or fraction 0 reads none). */
  private static void checkClasses(NoiseOptions o, int numClasses) {
    if (o.labelFlip().rate() > 0) {
      checkClasses("noise.label-flip.pairs", o.labelFlip().pairs().stream().flatMapToInt(Arrays::stream),
          numClasses);
    }
    if (o.saltPepper().fraction() > 0) {
      checkClasses("noise.salt-pepper.classes", o.saltPepper().classes().stream().mapToInt(Integer::intValue),
          numClasses);
    }
    if (o.gaussian().fraction() > 0) {
      checkClasses("noise.gaussian.classes", o.gaussian().classes().stream().mapToInt(Integer::intValue),
          numClasses);
    }
    if (o.fgsm().fraction() > 0) {
      checkClasses("noise.fgsm.pairs", o.fgsm().pairs().stream().flatMapToInt(Arrays::stream), numClasses);
    }
  }

  /** Stops at the first class of {@code key} outside [0, numClasses). */
  private static void checkClasses(String key, IntStream classes, int numClasses) {
    classes.filter(c -> c < 0 || c >= numClasses).findFirst().ifPresent(c -> {
      throw LetheInputException.of("config key '%s': class %d is outside [0, %d)", key, c, numClasses);
    });
  }
}
