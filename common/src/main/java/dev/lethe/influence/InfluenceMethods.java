package dev.lethe.influence;

import dev.lethe.LetheInputException;
import dev.lethe.config.LetheConfig;
import dev.lethe.config.Options;
import dev.lethe.valuation.KnnShapleyInfluence;
import dev.lethe.valuation.TmcShapleyInfluence;
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
   * The method {@code name} with the options of conf/reference.conf; ensemble, whose members only the configuration
   * names, is bad input here (use {@link #byName(String, LetheConfig)}).
   *
   * @throws LetheInputException for an unknown name, listing the known ones
   */
  public static InfluenceMethod byName(String name) {
    if (name != null && EnsembleInfluence.NAME.equals(name.trim())) {
      throw LetheInputException.of("%s takes its members from %s: build it from the configuration",
          EnsembleInfluence.NAME, ENSEMBLE_METHODS);
    }
    return byName(name, LetheConfig.defaults());
  }

  /**
   * The method {@code name} with its options from {@code c} (tracin, linear-cg, linear-lissa, confident-learning and
   * the data-valuation methods read their own keys; the others take theirs from {@link InfluenceOptions}).
   *
   * @throws LetheInputException for an unknown name or a bad option, naming the key
   */
  public static InfluenceMethod byName(String name, LetheConfig c) {
    String n = name == null ? "" : name.trim();
    return switch (n) {
      case EwcInfluence.NAME -> new EwcInfluence();
      case LinearInfluence.CG -> LinearInfluence.of(false, c);
      case LinearInfluence.LISSA -> LinearInfluence.of(true, c);
      case RandomInfluence.NAME -> new RandomInfluence();
      case OracleInfluence.NAME -> new OracleInfluence();
      case LossInfluence.NAME -> new LossInfluence();
      case TracInInfluence.TRACIN -> TracInInfluence.tracin(c);
      case TracInInfluence.SELF_INFLUENCE -> TracInInfluence.selfInfluence();
      case ConfidentLearning.NAME -> new ConfidentLearning(Options.confidentLearning(c).score());
      case PumaInfluence.NAME -> new PumaInfluence(PumaOptions.from(c));
      case KnnShapleyInfluence.NAME -> KnnShapleyInfluence.from(c);
      case TmcShapleyInfluence.NAME -> TmcShapleyInfluence.from(c);
      case EnsembleInfluence.NAME -> ensemble(c);
      default -> throw LetheInputException.of("lethe.identify.method: unknown influence method '%s' (known: %s)",
          name, String.join(", ", NAMES));
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
  static EnsembleInfluence ensemble(LetheConfig c) {
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
