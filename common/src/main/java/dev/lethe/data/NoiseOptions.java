package dev.lethe.data;

import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What noise {@code prepare} injects into the training set (paper Sec. 5: class-dependent label flips between
 * similar classes; salt-and-pepper and Gaussian input noise on chosen classes). Every corrupted row is recorded in
 * the {@code corruption} column with its original label, so the culprits can be scored against the truth.
 *
 * @param labelFlip class-dependent label flips
 * @param saltPepper salt-and-pepper input noise
 * @param gaussian additive Gaussian input noise
 */
public record NoiseOptions(LabelFlip labelFlip, SaltPepper saltPepper, Gaussian gaussian) {

  /** No noise at all. */
  public static NoiseOptions none() {
    return new NoiseOptions(new LabelFlip(0.0, List.of(), true), new SaltPepper(0.0, List.of(), 0.3),
        new Gaussian(0.0, List.of(), 0.5));
  }

  /** Whether any kind of noise is switched on. */
  public boolean any() {
    return labelFlip.rate() > 0 || saltPepper.fraction() > 0 || gaussian.fraction() > 0;
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
      pairs = List.copyOf(pairs);
      Set<Integer> sources = new TreeSet<>();
      for (int[] p : pairs) {
        if (p.length != 2 || p[0] == p[1]) {
          throw new IllegalArgumentException("noise.label-flip.pairs: each pair must be two different classes");
        }
        if (!sources.add(p[0]) || (symmetric && !sources.add(p[1]))) {
          throw new IllegalArgumentException("noise.label-flip.pairs: class " + (sources.contains(p[0]) ? p[0]
              : p[1]) + " is the source of more than one flip");
        }
      }
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
}
