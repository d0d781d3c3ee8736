package dev.lethe.config;

import dev.lethe.LetheInputException;
import dev.lethe.Seeds;
import dev.lethe.data.NoiseOptions;
import dev.lethe.influence.EwcOptions;
import dev.lethe.influence.InfluenceOptions;
import dev.lethe.model.Architecture;
import dev.lethe.model.ModelOptions;
import dev.lethe.model.TrainOptions;
import java.util.function.Supplier;

/**
 * Typed option records built from a {@link LetheConfig}. A record's own validation error becomes a
 * {@link LetheInputException} (exit code 2) carrying the key it names.
 */
public final class Options {
  private Options() {}

  public static NoiseOptions noise(LetheConfig c) {
    return valid(() -> new NoiseOptions(
        new NoiseOptions.LabelFlip(c.getDouble("noise.label-flip.rate"), c.getIntPairs("noise.label-flip.pairs"),
            c.getBoolean("noise.label-flip.symmetric")),
        new NoiseOptions.SaltPepper(c.getDouble("noise.salt-pepper.fraction"),
            c.getIntList("noise.salt-pepper.classes"), c.getDouble("noise.salt-pepper.amount")),
        new NoiseOptions.Gaussian(c.getDouble("noise.gaussian.fraction"), c.getIntList("noise.gaussian.classes"),
            c.getDouble("noise.gaussian.sigma")),
        new NoiseOptions.Fgsm(c.getDouble("noise.fgsm.fraction"), c.getIntPairs("noise.fgsm.pairs"),
            c.getDouble("noise.fgsm.epsilon"), c.getInt("noise.fgsm.surrogate-epochs"))));
  }

  public static ModelOptions model(LetheConfig c) {
    return valid(() -> new ModelOptions(Architecture.parse(c.getString("model.architecture")),
        c.getInt("data.channels"), c.getInt("data.height"), c.getInt("data.width"), c.getInt("data.num-classes"),
        c.getIntList("model.hidden"), Seeds.derive(c.getLong("seed"), "model.init")));
  }

  public static TrainOptions train(LetheConfig c) {
    return valid(() -> new TrainOptions(c.getDouble("train.learning-rate"), c.getInt("train.batch-size"),
        c.getInt("train.max-epochs"), c.getInt("train.patience"), c.getDouble("train.validation-fraction"),
        Seeds.derive(c.getLong("seed"), "train")));
  }

  /** The EWC update of ewc-influence ({@code identify.ewc.*}). */
  public static EwcOptions identifyEwc(LetheConfig c) {
    return valid("identify.ewc", () -> new EwcOptions(c.getDouble("identify.ewc.gamma"),
        c.getDouble("identify.ewc.lambda"), c.getDouble("identify.ewc.learning-rate"),
        c.getInt("identify.ewc.batch-size"), c.getInt("identify.ewc.max-epochs"), c.getInt("identify.ewc.patience"),
        c.getDouble("identify.ewc.validation-fraction")));
  }

  /** Options of every influence method ({@code identify.*} except method, partitions, curvature-samples). */
  public static InfluenceOptions influence(LetheConfig c) {
    EwcOptions ewc = identifyEwc(c);
    String l = "identify.linear.";
    return valid("identify", () -> new InfluenceOptions(ewc, c.getDouble(l + "gamma"), c.getString(l + "curvature"),
        c.getDouble(l + "damping"), c.getInt(l + "cg.max-iterations"), c.getDouble(l + "cg.tolerance"),
        c.getDouble(l + "lissa.scale"), c.getInt(l + "lissa.depth"), c.getInt(l + "lissa.repeats"),
        c.getInt(l + "lissa.batch-size"), c.getInt("identify.batch-size")));
  }

  /** Runs a record constructor and turns its {@link IllegalArgumentException} into bad input. */
  public static <T> T valid(Supplier<T> build) {
    try {
      return build.get();
    } catch (IllegalArgumentException e) {
      throw new LetheInputException("config: " + e.getMessage(), e);
    }
  }

  /** As {@link #valid(Supplier)}, naming the config section whose values the record holds. */
  public static <T> T valid(String section, Supplier<T> build) {
    try {
      return build.get();
    } catch (IllegalArgumentException e) {
      throw new LetheInputException("config " + section + ": " + e.getMessage(), e);
    }
  }
}
