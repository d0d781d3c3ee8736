package dev.lethe.repair;

import dev.lethe.Seeds;
import dev.lethe.config.LetheConfig;
import dev.lethe.config.Options;
import dev.lethe.model.TrainOptions;
import java.io.Serializable;
import java.util.List;
import java.util.Locale;

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
 * @param energyModel the model whose energy E aligns the culprits: {@link #BASE} (theta_hat, which was fitted to
 *     the culprits' labels) or {@link #RETRAINED} (theta_hat's architecture trained from scratch on D \ C,
 *     {@link EnergyModel})
 * @param retraining how {@link #RETRAINED} trains (the train stage's settings and seeds); unused with {@link #BASE}
 */
public record AlignOptions(int inputSteps, double inputEpsilon, double inputStepSize, double featureMin,
    double featureMax, double minEnergyGap, String unaligned, String energyModel, Retraining retraining)
    implements Serializable {
  private static final long serialVersionUID = 2L;
  public static final String KEEP = "keep";
  public static final String DROP = "drop";
  /** The energy of theta_hat. */
  public static final String BASE = "base";
  /** The energy of a model trained from scratch on D \ C. */
  public static final String RETRAINED = "retrained";

  /**
   * How the {@link #RETRAINED} energy model is trained: as the train stage trains theta_hat.
   *
   * @param training {@code train.*} (Adam, early stopping on a seeded validation split; its seed is the train
   *     stage's)
   * @param initSeed the seed of the fresh parameters (the train stage's {@code model.init} stream)
   */
  public record Retraining(TrainOptions training, long initSeed) implements Serializable {
    private static final long serialVersionUID = 1L;

    public Retraining {
      if (training == null) {
        throw new IllegalArgumentException("train settings must be given");
      }
    }

    /** {@code train.*}'s defaults (conf/reference.conf) with the train stage's seeds for run seed {@code seed}. */
    public static Retraining defaults(long seed) {
      return of(LetheConfig.load(List.of(), List.of("seed = " + seed)));
    }

    /** {@code train.*} with the train stage's seeds for {@code c}'s {@code seed}. */
    static Retraining of(LetheConfig c) {
      return new Retraining(Options.train(c), Seeds.derive(c.getLong("seed"), "model.init"));
    }
  }

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
    unaligned = unaligned == null ? "" : unaligned.trim().toLowerCase(Locale.ROOT);
    if (!KEEP.equals(unaligned) && !DROP.equals(unaligned)) {
      throw new IllegalArgumentException("repair.align.unaligned must be keep or drop, got '" + unaligned + "'");
    }
    energyModel = energyModel == null ? "" : energyModel.trim().toLowerCase(Locale.ROOT);
    if (!BASE.equals(energyModel) && !RETRAINED.equals(energyModel)) {
      throw new IllegalArgumentException("repair.align.energy-model must be base or retrained, got '" + energyModel
          + "'");
    }
    if (retraining == null) {
      throw new IllegalArgumentException("repair.align: the retraining settings must be given");
    }
    if (!(featureMin < featureMax)) {
      throw new IllegalArgumentException("data.feature-range must have min < max, got [" + featureMin + ", "
          + featureMax + "]");
    }
  }

  /** With theta_hat's energy: every culprit theta_hat disputes by at least the margin is relabelled. */
  public AlignOptions(int inputSteps, double inputEpsilon, double inputStepSize, double featureMin,
      double featureMax, double minEnergyGap, String unaligned) {
    this(inputSteps, inputEpsilon, inputStepSize, featureMin, featureMax, minEnergyGap, unaligned, BASE,
        Retraining.of(LetheConfig.defaults()));
  }

  /** With theta_hat's energy, without a margin or dropping: every culprit relabelled to y*, the rest kept. */
  public AlignOptions(int inputSteps, double inputEpsilon, double inputStepSize, double featureMin,
      double featureMax) {
    this(inputSteps, inputEpsilon, inputStepSize, featureMin, featureMax, 0, KEEP);
  }

  /** The defaults of conf/reference.conf (the retraining seeded from its {@code seed}). */
  public static AlignOptions defaults() {
    return from(LetheConfig.defaults());
  }

  /** Whether the culprits that are not relabelled leave D. */
  public boolean dropsUnaligned() {
    return DROP.equals(unaligned);
  }

  /** Whether the energy is that of a model trained on D \ C. */
  public boolean retrains() {
    return RETRAINED.equals(energyModel);
  }

  /** From {@code repair.align.*}, {@code data.feature-range}, {@code train.*} and {@code seed}. */
  public static AlignOptions from(LetheConfig c) {
    java.util.List<Double> range = c.getDoubleList("data.feature-range");
    if (range.size() != 2) {
      throw dev.lethe.LetheInputException.of("config key 'data.feature-range': expected [min, max], got %s", range);
    }
    Retraining retraining = Retraining.of(c);
    return Options.valid(() -> new AlignOptions(c.getInt("repair.align.input-steps"),
        c.getDouble("repair.align.input-epsilon"), c.getDouble("repair.align.input-step-size"), range.get(0),
        range.get(1), c.getDouble("repair.align.min-energy-gap"), c.getString("repair.align.unaligned"),
        c.getString("repair.align.energy-model"), retraining));
  }
}
