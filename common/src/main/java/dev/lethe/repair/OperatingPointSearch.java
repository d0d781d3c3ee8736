package dev.lethe.repair;

import dev.lethe.repair.RepairEvaluation.Accuracies;
import dev.lethe.repair.RepairEvaluation.Guardrail;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The rule that picks a repair's operating point from the candidates of every setting (PUMA's patching under a
 * performance drop limit; Tanno et al. 2022, Section 2: "for a set of benchmark cases B, maintain a given level of
 * prediction accuracy"). It reads only Fq and B.
 *
 * <ul>
 *   <li>A candidate is <em>admissible</em> when it fixes at least one failure of Fq (accuracy on Fq above
 *       theta_hat's) and its accuracy on B drops by at most the guardrail's limit.
 *   <li>The chosen point is the admissible candidate with the highest Fq accuracy; ties go to the higher mean
 *       log p(Fq), then to the smaller B drop, then to the earlier setting and step.
 *   <li>Without an admissible candidate the repair is rejected, and the closest candidate is reported: of those that
 *       fix a failure of Fq, the one with the smallest B drop; when none fixes any, the best by the same order.
 * </ul>
 */
public final class OperatingPointSearch {
  private OperatingPointSearch() {}

  /**
   * The outcome.
   *
   * @param point the chosen point, or the closest one when {@code accepted} is false
   * @param accepted whether it satisfies the guardrail
   */
  public record Choice(OperatingPoint point, boolean accepted) {}

  /** Better first: Fq accuracy, mean log p(Fq) (NaN last), then the smaller B accuracy loss, then grid order. */
  public static final Comparator<OperatingPoint> BETTER_FIRST = Comparator
      .comparingDouble((OperatingPoint p) -> -p.accuracies().query())
      .thenComparingDouble(p -> Double.isNaN(p.accuracies().queryLogp()) ? Double.POSITIVE_INFINITY
          : -p.accuracies().queryLogp())
      .thenComparingDouble(p -> -p.accuracies().benchmark())
      .thenComparingInt(OperatingPoint::setting)
      .thenComparingInt(OperatingPoint::step);

  /** Closest first, among candidates that fix a failure: the smaller B accuracy loss, then {@link #BETTER_FIRST}. */
  public static final Comparator<OperatingPoint> CLOSEST_FIRST = Comparator
      .comparingDouble((OperatingPoint p) -> -p.accuracies().benchmark()).thenComparing(BETTER_FIRST);

  /** Whether {@code p} fixes at least one failure of Fq that theta_hat gets wrong. */
  public static boolean fixesAFailure(OperatingPoint p, Accuracies before) {
    return p.accuracies().query() > before.query();
  }

  public static boolean admissible(OperatingPoint p, Accuracies before, Guardrail guardrail) {
    return fixesAFailure(p, before) && guardrail.admits(before, p.accuracies());
  }

  /** The chosen (or closest) point of {@code candidates}; empty when there are none. */
  public static Optional<Choice> choose(List<OperatingPoint> candidates, Accuracies before, Guardrail guardrail) {
    Optional<OperatingPoint> best = candidates.stream().filter(p -> admissible(p, before, guardrail))
        .min(BETTER_FIRST);
    if (best.isPresent()) {
      return Optional.of(new Choice(best.get(), true));
    }
    Optional<OperatingPoint> closest = candidates.stream().filter(p -> fixesAFailure(p, before))
        .min(CLOSEST_FIRST);
    return closest.or(() -> candidates.stream().min(BETTER_FIRST)).map(p -> new Choice(p, false));
  }

  /**
   * Runs one setting of {@code method}'s grid and records its path (what one Spark task of the repair stage does).
   *
   * @param index the setting's position in {@code method.grid(in)}
   */
  public static PathRecorder.SettingOutcome runSetting(RepairMethod method, RepairInputs in,
      RepairEvaluation.Sets sets, Accuracies before, Guardrail guardrail, int index, Knobs setting) {
    PathRecorder recorder = new PathRecorder(index, sets, before, guardrail, in.options().search().patience());
    method.trace(in, setting, recorder);
    return recorder.outcome();
  }

  /**
   * The search's result over every setting's path.
   *
   * @param frontier every candidate, by setting and step
   * @param choice the chosen or closest point (empty when there was no candidate)
   * @param params the parameters of that point's model ({@link dev.lethe.math.NetworkBytes#paramBytes}), or null
   */
  public record Result(List<OperatingPoint> frontier, Optional<Choice> choice, byte[] params) {}

  /** Chooses among the paths' candidates and finds the chosen point's parameters among those the paths kept. */
  public static Result merge(List<PathRecorder.SettingOutcome> outcomes, Accuracies before, Guardrail guardrail) {
    List<OperatingPoint> frontier = outcomes.stream().flatMap(o -> o.points().stream())
        .sorted(Comparator.comparingInt(OperatingPoint::setting).thenComparingInt(OperatingPoint::step)).toList();
    Optional<Choice> choice = choose(frontier, before, guardrail);
    byte[] params = choice.map(c -> outcomes.stream().flatMap(o -> o.kept().stream())
        .filter(k -> k.point().equals(c.point())).findFirst()
        .orElseThrow(() -> new IllegalStateException("no path kept the parameters of the chosen point " + c.point()))
        .params()).orElse(null);
    return new Result(frontier, choice, params);
  }
}
