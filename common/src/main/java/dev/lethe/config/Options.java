package dev.lethe.config;

import dev.lethe.LetheInputException;
import dev.lethe.Seeds;
import dev.lethe.data.NoiseOptions;
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
            c.getDouble("noise.gaussian.sigma"))));
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

  /** Runs a record constructor and turns its {@link IllegalArgumentException} into bad input. */
  public static <T> T valid(Supplier<T> build) {
    try {
      return build.get();
    } catch (IllegalArgumentException e) {
      throw new LetheInputException("config: " + e.getMessage(), e);
    }
  }
}
