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
      PumaInfluence.NAME, KnnShapleyInfluence.NAME, TmcShapleyInfluence.NAME,
      // the rank average of other methods' rankings
      EnsembleInfluence.NAME);
  /** Config key: the members of ensemble. */
  public static final String ENSEMBLE_METHODS = "identify.ensemble.methods";

  private InfluenceMethods() {}

  /**
   * The method {@code name} with its default options; ensemble, whose members only the configuration names, is bad
   * input here (use {@link #byName(String, dev.lethe.config.LetheConfig)}).
   *
   * @throws LetheInputException for an unknown name, listing the known ones
   */
  public static InfluenceMethod byName(String name) {
    String n = name == null ? "" : name.trim();
    return switch (n) {
      case EnsembleInfluence.NAME -> throw LetheInputException.of("%s takes its members from %s: build it from the"
          + " configuration", n, ENSEMBLE_METHODS);
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
   * The method {@code name} with its options from {@code c} (tracin, linear-cg, linear-lissa and the data-valuation
   * methods read their own keys; the others take theirs from {@link InfluenceOptions}).
   *
   * @throws LetheInputException for an unknown name or a bad option, naming the key
   */
  public static InfluenceMethod byName(String name, dev.lethe.config.LetheConfig c) {
    String n = name == null ? "" : name.trim();
    return switch (n) {
      case TracInInfluence.TRACIN -> TracInInfluence.tracin(c);
      case LinearInfluence.CG -> LinearInfluence.of(false, c);
      case LinearInfluence.LISSA -> LinearInfluence.of(true, c);
      case PumaInfluence.NAME -> new PumaInfluence(PumaOptions.from(c));
      case KnnShapleyInfluence.NAME -> KnnShapleyInfluence.from(c);
      case TmcShapleyInfluence.NAME -> TmcShapleyInfluence.from(c);
      case EnsembleInfluence.NAME -> ensemble(c);
      default -> byName(name);
    };
  }

  /**
   * The name of a known method, trimmed.
   *
   * @throws LetheInputException for an unknown name, listing the known ones
   */
  public static String requireKnown(String name) {
    String n = name == null ? "" : name.trim();
    if (!NAMES.contains(n)) {
      throw LetheInputException.of("lethe.identify.method: unknown influence method '%s' (known: %s)", name,
          String.join(", ", NAMES));
    }
    return n;
  }

  /** ensemble with the members of {@value #ENSEMBLE_METHODS}: known methods, at least two, distinct, not itself. */
  static EnsembleInfluence ensemble(dev.lethe.config.LetheConfig c) {
    List<String> members = c.getStringList(ENSEMBLE_METHODS).stream().map(String::trim).toList();
    for (String m : members) {
      if (!NAMES.contains(m)) {
        throw LetheInputException.of("config key '%s': unknown influence method '%s' (known: %s)", ENSEMBLE_METHODS,
            m, String.join(", ", NAMES));
      }
    }
    try {
      return new EnsembleInfluence(members);
    } catch (IllegalArgumentException e) {
      throw new LetheInputException("config key '" + ENSEMBLE_METHODS + "': " + e.getMessage(), e);
    }
  }

  /** The known names. */
  public static List<String> names() {
    return NAMES;
  }
}
