package dev.lethe.data;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What noise {@code prepare} injects into the training set (paper Sec. 5: class-dependent label flips between
 * similar classes; salt-and-pepper and Gaussian input noise on chosen classes; targeted FGSM poisoning between
 * class pairs). Every corrupted row is recorded in the {@code corruption} column with its original label, so the
 * culprits can be scored against the truth.
 *
 * @param labelFlip class-dependent label flips
 * @param saltPepper salt-and-pepper input noise
 * @param gaussian additive Gaussian input noise
 * @param fgsm targeted clean-label FGSM poisoning
 */
public record NoiseOptions(LabelFlip labelFlip, SaltPepper saltPepper, Gaussian gaussian, Fgsm fgsm) {

  /** No noise at all. */
  public static NoiseOptions none() {
    return new NoiseOptions(new LabelFlip(0.0, List.of(), true), new SaltPepper(0.0, List.of(), 0.3),
        new Gaussian(0.0, List.of(), 0.5), new Fgsm(0.0, List.of(), 0.1, 10, FgsmLabel.VICTIM));
  }

  /** Whether any kind of noise is switched on. */
  public boolean any() {
    return labelFlip.rate() > 0 || saltPepper.fraction() > 0 || gaussian.fraction() > 0 || fgsm.fraction() > 0;
  }

  /**
   * Label flips: a fraction {@code rate} of the training examples of each source class get the label of the paired
   * class.
   *
   * @param rate fraction of each source class flipped, in [0, 1]
   * @param pairs class pairs {a, b}: a's examples are relabelled b (and b's relabelled a when symmetric)
   * @param symmetric whether each pair flips both ways
   */
  public record LabelFlip(double rate, List<int[]> pairs, boolean symmetric) {
    public LabelFlip {
      if (!(rate >= 0 && rate <= 1)) {
        throw new IllegalArgumentException("noise.label-flip.rate must be in [0, 1], got " + rate);
      }
      pairs = checkPairs("noise.label-flip.pairs", pairs, symmetric);
    }
  }

  /**
   * Salt-and-pepper noise: a fraction of the chosen classes' images get {@code amount} of their pixels set to 0 or
   * 1 (half each, in expectation).
   */
  public record SaltPepper(double fraction, List<Integer> classes, double amount) {
    public SaltPepper {
      if (!(fraction >= 0 && fraction <= 1)) {
        throw new IllegalArgumentException("noise.salt-pepper.fraction must be in [0, 1], got " + fraction);
      }
      if (!(amount >= 0 && amount <= 1)) {
        throw new IllegalArgumentException("noise.salt-pepper.amount must be in [0, 1], got " + amount);
      }
      classes = List.copyOf(classes);
    }
  }

  /** Gaussian noise: a fraction of the chosen classes' images get N(0, sigma^2) added per pixel, clipped to [0, 1]. */
  public record Gaussian(double fraction, List<Integer> classes, double sigma) {
    public Gaussian {
      if (!(fraction >= 0 && fraction <= 1)) {
        throw new IllegalArgumentException("noise.gaussian.fraction must be in [0, 1], got " + fraction);
      }
      if (!(sigma >= 0) || Double.isInfinite(sigma)) {
        throw new IllegalArgumentException("noise.gaussian.sigma must be >= 0, got " + sigma);
      }
      classes = List.copyOf(classes);
    }
  }

  /**
   * Targeted FGSM poisoning ({@link FgsmPoisoning}): a fraction of each source class's images are moved one FGSM
   * step of size {@code epsilon} towards the paired target class of a softmax-regression surrogate (the victim
   * model), and are labelled as {@code label} says.
   *
   * @param fraction fraction of each source class poisoned, in [0, 1]
   * @param pairs class pairs {a, b}: a's images are pushed towards b; one target per source
   * @param epsilon FGSM step (pixel scale 0..1), in (0, 1]
   * @param surrogateEpochs SGD epochs of the surrogate, at least 1
   * @param label which label a poisoned image carries
   */
  public record Fgsm(double fraction, List<int[]> pairs, double epsilon, int surrogateEpochs, FgsmLabel label) {
    public Fgsm {
      if (label == null) {
        throw new IllegalArgumentException("noise.fgsm.label must be victim or original");
      }
      if (!(fraction >= 0 && fraction <= 1)) {
        throw new IllegalArgumentException("noise.fgsm.fraction must be in [0, 1], got " + fraction);
      }
      if (!(epsilon > 0 && epsilon <= 1)) {
        throw new IllegalArgumentException("noise.fgsm.epsilon must be in (0, 1], got " + epsilon);
      }
      if (surrogateEpochs < 1) {
        throw new IllegalArgumentException("noise.fgsm.surrogate-epochs must be >= 1, got " + surrogateEpochs);
      }
      pairs = checkPairs("noise.fgsm.pairs", pairs, false);
    }
  }

  /**
   * The label of an FGSM-poisoned image ({@code noise.fgsm.label}).
   *
   * <p>{@code VICTIM}: the class the victim model (the surrogate) predicts for the poisoned image, as in the paper's
   * protocol (Tanno et al. 2022, Sec. 5): where the attack succeeded the image carries a wrong label, so the poison
   * teaches the trained model the victim's mistake. {@code ORIGINAL}: the image keeps its label (clean-label
   * poisoning; then the poison acts like adversarial-training augmentation and need not cause failures).
   */
  public enum FgsmLabel {
    VICTIM,
    ORIGINAL;

    /** Parses {@code victim} or {@code original} (case-insensitive). */
    public static FgsmLabel parse(String value) {
      String v = value == null ? "" : value.trim().toLowerCase(java.util.Locale.ROOT);
      return switch (v) {
        case "victim" -> VICTIM;
        case "original" -> ORIGINAL;
        default -> throw new IllegalArgumentException(
            "noise.fgsm.label must be victim or original, got '" + value + "'");
      };
    }
  }

  /**
   * An immutable copy of {@code pairs} once each is two different classes and no class is the source of two pairs
   * (with {@code symmetric}, b is a source too).
   */
  private static List<int[]> checkPairs(String key, List<int[]> pairs, boolean symmetric) {
    Set<Integer> sources = new TreeSet<>();
    for (int[] p : pairs) {
      if (p.length != 2 || p[0] == p[1]) {
        throw new IllegalArgumentException(key + ": each pair must be two different classes");
      }
      for (int source : symmetric ? p : new int[] {p[0]}) {
        if (!sources.add(source)) {
          throw new IllegalArgumentException(key + ": class " + source + " is the source of more than one pair");
        }
      }
    }
    return List.copyOf(pairs);
  }
}
