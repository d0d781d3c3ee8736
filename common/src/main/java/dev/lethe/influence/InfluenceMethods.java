package dev.lethe.influence;

import dev.lethe.LetheInputException;
import dev.lethe.valuation.KnnShapleyInfluence;
import dev.lethe.valuation.PermutationRunner;
import dev.lethe.valuation.TmcShapleyInfluence;
import dev.lethe.valuation.TmcShapleyOptions;
import java.util.List;

/** The registry of influence methods by configuration name. */
public final class InfluenceMethods {
  private static final List<String> NAMES = List.of(EwcInfluence.NAME, LinearInfluence.CG, LinearInfluence.LISSA,
      RandomInfluence.NAME, OracleInfluence.NAME,
      // failure-specific and failure-agnostic rankings from the data-cleaning literature
      LossInfluence.NAME, TracInInfluence.TRACIN, TracInInfluence.SELF_INFLUENCE, ConfidentLearning.NAME,
      // data values: PUMA for a chosen metric, Shapley values
      PumaInfluence.NAME, KnnShapleyInfluence.NAME, TmcShapleyInfluence.NAME);

  private InfluenceMethods() {}

  /**
   * @throws LetheInputException for an unknown name, listing the known ones
   */
  public static InfluenceMethod byName(String name) {
    String n = name == null ? "" : name.trim();
    return switch (n) {
      case EwcInfluence.NAME -> new EwcInfluence();
      case LinearInfluence.CG -> LinearInfluence.cg();
      case LinearInfluence.LISSA -> LinearInfluence.lissa();
      case RandomInfluence.NAME -> new RandomInfluence();
      case OracleInfluence.NAME -> new OracleInfluence();
      case LossInfluence.NAME -> new LossInfluence();
      case TracInInfluence.TRACIN -> TracInInfluence.tracin();
      case TracInInfluence.SELF_INFLUENCE -> TracInInfluence.selfInfluence();
      case ConfidentLearning.NAME -> new ConfidentLearning(LabelQuality.Score.SELF_CONFIDENCE);
      case PumaInfluence.NAME -> new PumaInfluence(PumaOptions.defaults());
      case KnnShapleyInfluence.NAME -> new KnnShapleyInfluence(10, Runtime.getRuntime().availableProcessors());
      case TmcShapleyInfluence.NAME -> new TmcShapleyInfluence(TmcShapleyOptions.defaults(),
          PermutationRunner.local(Runtime.getRuntime().availableProcessors()));
      default -> throw LetheInputException.of("lethe.identify.method: unknown influence method '%s' (known: %s)",
          name, String.join(", ", NAMES));
    };
  }

  /**
   * The method {@code name} with its options from {@code c} (the data-valuation methods read their own keys; the
   * others take theirs from {@link InfluenceOptions}).
   *
   * @throws LetheInputException for an unknown name or a bad option, naming the key
   */
  public static InfluenceMethod byName(String name, dev.lethe.config.LetheConfig c) {
    String n = name == null ? "" : name.trim();
    return switch (n) {
      case PumaInfluence.NAME -> new PumaInfluence(PumaOptions.from(c));
      case KnnShapleyInfluence.NAME -> KnnShapleyInfluence.from(c);
      case TmcShapleyInfluence.NAME -> TmcShapleyInfluence.from(c);
      default -> byName(name);
    };
  }

  /** The known names. */
  public static List<String> names() {
    return NAMES;
  }
}
