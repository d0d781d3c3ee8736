package dev.lethe.config;

import dev.lethe.LetheInputException;
import dev.lethe.Seeds;
import dev.lethe.data.FeatureScale;
import dev.lethe.data.NoiseOptions;
import dev.lethe.influence.ConfidentLearningOptions;
import dev.lethe.influence.EwcOptions;
import dev.lethe.influence.InfluenceOptions;
import dev.lethe.influence.LabelQuality;
import dev.lethe.model.Architecture;
import dev.lethe.model.ModelOptions;
import dev.lethe.model.TrainOptions;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import java.util.regex.Pattern;

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
            c.getDouble("noise.fgsm.epsilon"), c.getInt("noise.fgsm.surrogate-epochs"),
            NoiseOptions.FgsmLabel.parse(c.getString("noise.fgsm.label")))));
  }

  public static ModelOptions model(LetheConfig c) {
    return valid(() -> new ModelOptions(Architecture.parse(c.getString("model.architecture")),
        c.getInt("data.channels"), c.getInt("data.height"), c.getInt("data.width"), c.getInt("data.num-classes"),
        c.getIntList("model.hidden"), Seeds.derive(c.getLong("seed"), "model.init")));
  }

  public static TrainOptions train(LetheConfig c) {
    return valid("train", () -> new TrainOptions(c.getDouble("train.learning-rate"), c.getInt("train.batch-size"),
        c.getInt("train.max-epochs"), c.getInt("train.patience"), c.getDouble("train.validation-fraction"),
        Seeds.derive(c.getLong("seed"), "train")));
  }

  /** The EWC update of ewc-influence ({@code identify.ewc.*}). */
  public static EwcOptions identifyEwc(LetheConfig c) {
    return valid("identify.ewc", () -> new EwcOptions(c.getDouble("identify.ewc.gamma"),
        c.getDouble("identify.ewc.lambda"), c.getDouble("identify.ewc.learning-rate"),
        c.getInt("identify.ewc.batch-size"), c.getInt("identify.ewc.max-epochs"), c.getInt("identify.ewc.patience"),
        c.getDouble("identify.ewc.validation-fraction"),
        EwcOptions.StopOn.parse(c.getString("identify.ewc.stop-on"))));
  }

  /** Options of every influence method ({@code identify.*} except method, partitions, curvature-samples). */
  public static InfluenceOptions influence(LetheConfig c) {
    EwcOptions ewc = identifyEwc(c);
    String l = "identify.linear.";
    Map<String, String> keys = Map.of("linearGamma", l + "gamma", "curvature", l + "curvature", "damping",
        l + "damping", "cgMaxIterations", l + "cg.max-iterations", "cgTolerance", l + "cg.tolerance", "lissaScale",
        l + "lissa.scale", "lissaDepth", l + "lissa.depth", "lissaRepeats", l + "lissa.repeats", "lissaBatchSize",
        l + "lissa.batch-size", "scoreBatchSize", "identify.batch-size");
    return valid("identify", keys, () -> new InfluenceOptions(ewc, c.getDouble(l + "gamma"),
        c.getString(l + "curvature"), c.getDouble(l + "damping"), c.getInt(l + "cg.max-iterations"),
        c.getDouble(l + "cg.tolerance"), c.getDouble(l + "lissa.scale"), c.getInt(l + "lissa.depth"),
        c.getInt(l + "lissa.repeats"), c.getInt(l + "lissa.batch-size"), c.getInt("identify.batch-size")));
  }

  /** The k-fold training and scoring of confident-learning ({@code identify.confident-learning.*}). */
  public static ConfidentLearningOptions confidentLearning(LetheConfig c) {
    String k = "identify.confident-learning.";
    return valid(() -> new ConfidentLearningOptions(c.getInt(k + "folds"), LabelQuality.Score.parse(c.getString(
        k + "score")), c.getInt(k + "max-epochs")));
  }

  /** {@code data.feature-range} and {@code data.rescale}: what prepare accepts as feature values. */
  public static FeatureScale featureScale(LetheConfig c) {
    List<Double> range = c.getDoubleList(FeatureScale.RANGE_KEY);
    if (range.size() != 2) {
      throw LetheInputException.of("config key '%s': expected [min, max], got %s", FeatureScale.RANGE_KEY, range);
    }
    return valid(() -> new FeatureScale(range.get(0), range.get(1), c.getString(FeatureScale.RESCALE_KEY).trim()));
  }

  /**
   * Runs a record constructor and turns its {@link IllegalArgumentException} into bad input; a message that starts
   * with a config key ({@code data.num-classes must be >= 2}) is reported as that key's error.
   */
  public static <T> T valid(Supplier<T> build) {
    return valid(null, Map.of(), build);
  }

  /**
   * As {@link #valid(Supplier)} for a record whose fields are the keys of config section {@code section}: a message
   * that starts with a field name ({@code batchSize must be >= 1}) names the key, {@code section.batch-size}.
   */
  public static <T> T valid(String section, Supplier<T> build) {
    return valid(section, Map.of(), build);
  }

  /** As {@link #valid(String, Supplier)}, with the keys of fields whose name is not their key's. */
  public static <T> T valid(String section, Map<String, String> keyOfField, Supplier<T> build) {
    try {
      return build.get();
    } catch (IllegalArgumentException e) {
      throw new LetheInputException(keyMessage(section, keyOfField, e.getMessage()), e);
    }
  }

  /**
   * {@code config key 'K': rest} when the message starts with a key K ({@code K must ...}, {@code K: ...}) or with a
   * field ({@code batchSize must ...}: K is its key), else {@code config[ section]: message}.
   */
  static String keyMessage(String section, Map<String, String> keyOfField, String message) {
    String m = message == null ? "invalid value" : message;
    if (m.startsWith("config key ")) {
      return m;
    }
    int space = m.indexOf(' ');
    String first = space < 0 ? m : m.substring(0, space);
    String rest = space < 0 ? "" : m.substring(space + 1);
    String key = keyOfField.get(first);
    if (key == null && section != null && rest.startsWith("must ") && FIELD.matcher(first).matches()) {
      key = section + "." + KEBAB.matcher(first).replaceAll("$1-$2").toLowerCase(Locale.ROOT);
    }
    if (key == null && KEY.matcher(first).matches()) {
      key = first.endsWith(":") ? first.substring(0, first.length() - 1) : first;
    }
    if (key == null) {
      return "config" + (section == null ? "" : " " + section) + ": " + m;
    }
    return "config key '" + key + "': " + rest;
  }

  private static final Pattern FIELD = Pattern.compile("[a-z][a-z0-9]*([A-Z][a-z0-9]*)*");
  private static final Pattern KEBAB = Pattern.compile("([a-z0-9])([A-Z])");
  private static final Pattern KEY = Pattern.compile("[a-z][a-z0-9-]*(\\.[a-z][a-z0-9-]*)+:?");
}
