package dev.lethe.influence;

import dev.lethe.LetheInputException;
import java.util.List;

/** The registry of influence methods by configuration name. */
public final class InfluenceMethods {
  private static final List<String> NAMES = List.of(EwcInfluence.NAME, LinearInfluence.CG, LinearInfluence.LISSA,
      RandomInfluence.NAME, OracleInfluence.NAME,
      // failure-specific and failure-agnostic rankings from the data-cleaning literature
      LossInfluence.NAME, TracInInfluence.TRACIN, TracInInfluence.SELF_INFLUENCE, ConfidentLearning.NAME);

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
      default -> throw LetheInputException.of("lethe.identify.method: unknown influence method '%s' (known: %s)",
          name, String.join(", ", NAMES));
    };
  }

  /** The known names. */
  public static List<String> names() {
    return NAMES;
  }
}
