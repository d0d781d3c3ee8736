package dev.lethe.repair;

import dev.lethe.config.LetheConfig;
import dev.lethe.config.Options;
import java.io.Serializable;

/**
 * Options of {@link Align} (keys under {@code lethe.repair.align}; its fine-tuning uses {@code repair.finetune}'s
 * and its search {@code repair.search.finetune.learning-rate}).
 *
 * @param inputSteps signed-gradient steps on each aligned culprit's input that lower its energy E(x, y*) (>= 0;
 *     0 = labels only, the setting for tabular data)
 * @param inputEpsilon the L-infinity radius around the original input the steps stay within (>= 0), on the feature
 *     scale
 * @param inputStepSize the size of each step (> 0), on the feature scale
 * @param featureMin the smallest feature value a step may produce ({@code data.feature-range}'s lower end)
 * @param featureMax the largest ({@code data.feature-range}'s upper end)
 * @param minEnergyGap a culprit is relabelled only when E(x, y) - E(x, y*) = log p(y* | x) - log p(y | x) is at least
 *     this, in nats (>= 0; 0 = whenever the model prefers another label)
 * @param unaligned what happens to the culprits that are not relabelled: {@link #KEEP} (they stay in D as they are)
 *     or {@link #DROP} (they are removed from D, as deletion would)
 */
public record AlignOptions(int inputSteps, double inputEpsilon, double inputStepSize, double featureMin,
    double featureMax, double minEnergyGap, String unaligned) implements Serializable {
  private static final long serialVersionUID = 1L;
  public static final String KEEP = "keep";
  public static final String DROP = "drop";

  public AlignOptions {
    if (inputSteps < 0) {
      throw new IllegalArgumentException("repair.align.input-steps must be >= 0, got " + inputSteps);
    }
    if (!(inputEpsilon >= 0) || Double.isInfinite(inputEpsilon)) {
      throw new IllegalArgumentException("repair.align.input-epsilon must be finite and >= 0, got " + inputEpsilon);
    }
    if (!(inputStepSize > 0) || Double.isInfinite(inputStepSize)) {
      throw new IllegalArgumentException("repair.align.input-step-size must be finite and > 0, got " + inputStepSize);
    }
    if (!(minEnergyGap >= 0) || Double.isInfinite(minEnergyGap)) {
      throw new IllegalArgumentException("repair.align.min-energy-gap must be finite and >= 0 (nats), got "
          + minEnergyGap);
    }
    unaligned = unaligned == null ? "" : unaligned.trim().toLowerCase(java.util.Locale.ROOT);
    if (!KEEP.equals(unaligned) && !DROP.equals(unaligned)) {
      throw new IllegalArgumentException("repair.align.unaligned must be keep or drop, got '" + unaligned + "'");
    }
    if (!(featureMin < featureMax)) {
      throw new IllegalArgumentException("data.feature-range must have min < max, got [" + featureMin + ", "
          + featureMax + "]");
    }
  }

  /** Without input steps, a margin or dropping: every culprit relabelled to y*, the rest kept. */
  public AlignOptions(int inputSteps, double inputEpsilon, double inputStepSize, double featureMin,
      double featureMax) {
    this(inputSteps, inputEpsilon, inputStepSize, featureMin, featureMax, 0, KEEP);
  }

  /** The defaults of conf/reference.conf (no input steps). */
  public static AlignOptions defaults() {
    return new AlignOptions(0, 0.03, 0.01, 0, 1, DEFAULT_MIN_ENERGY_GAP, DEFAULT_UNALIGNED);
  }

  /** {@code repair.align.min-energy-gap}'s default, in nats. */
  static final double DEFAULT_MIN_ENERGY_GAP = 0.0;
  /** {@code repair.align.unaligned}'s default. */
  static final String DEFAULT_UNALIGNED = KEEP;

  /** Whether the culprits that are not relabelled leave D. */
  public boolean dropsUnaligned() {
    return DROP.equals(unaligned);
  }

  /** From {@code repair.align.*} and {@code data.feature-range}. */
  public static AlignOptions from(LetheConfig c) {
    java.util.List<Double> range = c.getDoubleList("data.feature-range");
    if (range.size() != 2) {
      throw dev.lethe.LetheInputException.of("config key 'data.feature-range': expected [min, max], got %s", range);
    }
    return Options.valid(() -> new AlignOptions(c.getInt("repair.align.input-steps"),
        c.getDouble("repair.align.input-epsilon"), c.getDouble("repair.align.input-step-size"), range.get(0),
        range.get(1), c.getDouble("repair.align.min-energy-gap"), c.getString("repair.align.unaligned")));
  }
}
