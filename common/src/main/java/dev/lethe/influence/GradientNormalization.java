package dev.lethe.influence;

import java.util.Locale;

/**
 * How a gradient-similarity method compares a training example's gradient with the failure-side vector:
 * {@link #NONE} takes the dot product, {@link #COSINE} the cosine (both vectors divided by their norms; a zero vector
 * gives 0). Cosine is the renormalisation of Hammoudeh and Lowd ("Identifying a training-set attack's target using
 * renormalized influence estimation", CCS 2022): it stops examples with large gradient norms from dominating a
 * ranking by magnitude alone.
 */
public enum GradientNormalization {
  /** The plain dot product. */
  NONE("none"),
  /** The cosine of the two vectors. */
  COSINE("cosine");

  private final String key;

  GradientNormalization(String key) {
    this.key = key;
  }

  /** The configuration value. */
  public String key() {
    return key;
  }

  /**
   * The setting called {@code value} ({@code none} or {@code cosine}, case-insensitive) of config key
   * {@code configKey}.
   *
   * @throws IllegalArgumentException starting with {@code configKey} for another value
   */
  public static GradientNormalization parse(String configKey, String value) {
    String n = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
    for (GradientNormalization v : values()) {
      if (v.key.equals(n)) {
        return v;
      }
    }
    throw new IllegalArgumentException(configKey + " must be none or cosine, got '" + value + "'");
  }

  /**
   * dot / (||g|| ||q||) for {@link #COSINE} (0 when either norm is 0), {@code dot} for {@link #NONE}.
   *
   * @param dot g . q
   * @param gg ||g||^2 (unused for {@link #NONE})
   * @param qNorm ||q|| (unused for {@link #NONE})
   */
  public double apply(double dot, double gg, double qNorm) {
    if (this == NONE) {
      return dot;
    }
    double denominator = Math.sqrt(gg) * qNorm;
    return denominator > 0 ? dot / denominator : 0;
  }
}
