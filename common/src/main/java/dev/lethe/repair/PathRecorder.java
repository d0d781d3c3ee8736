package dev.lethe.repair;

import dev.lethe.math.NetworkBytes;
import dev.lethe.repair.RepairEvaluation.Accuracies;
import dev.lethe.repair.RepairEvaluation.Guardrail;
import dev.lethe.repair.RepairEvaluation.Sets;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * Follows one setting's path for the operating-point search: evaluates every point on every test set, keeps the
 * parameters of the points {@link OperatingPointSearch#choose} can pick from this path, and stops the path after
 * {@code patience} points in a row that do not improve on its best point within the guardrail (by
 * {@link OperatingPointSearch#BETTER_FIRST}; Fq and B only).
 */
public final class PathRecorder implements RepairPath {
  private final int setting;
  private final Sets sets;
  private final Accuracies before;
  private final Guardrail guardrail;
  private final int patience;
  private final List<OperatingPoint> points = new ArrayList<>();
  private KeptPoint bestAdmissible;
  private KeptPoint closestFixing;
  private KeptPoint bestOverall;
  private OperatingPoint bestWithinLimit;
  private int sinceProgress;
  private boolean lastWithinGuardrail;

  /**
   * @param setting the setting's index in the method's grid
   * @param before theta_hat's accuracies
   * @param patience points without progress before the path stops (>= 1)
   */
  public PathRecorder(int setting, Sets sets, Accuracies before, Guardrail guardrail, int patience) {
    if (patience < 1) {
      throw new IllegalArgumentException("repair.search.patience must be >= 1, got " + patience);
    }
    this.setting = setting;
    this.sets = sets;
    this.before = before;
    this.guardrail = guardrail;
    this.patience = patience;
  }

  @Override
  public boolean offer(Knobs knobs, MultiLayerNetwork model) {
    OperatingPoint p = new OperatingPoint(setting, points.size() + 1, knobs, Accuracies.of(model, sets));
    points.add(p);
    if (OperatingPointSearch.admissible(p, before, guardrail)) {
      bestAdmissible = keepBetter(bestAdmissible, p, model, OperatingPointSearch.BETTER_FIRST);
    }
    if (OperatingPointSearch.fixesAFailure(p, before)) {
      closestFixing = keepBetter(closestFixing, p, model, OperatingPointSearch.CLOSEST_FIRST);
    }
    bestOverall = keepBetter(bestOverall, p, model, OperatingPointSearch.BETTER_FIRST);
    lastWithinGuardrail = guardrail.admits(before, p.accuracies());
    boolean progress = lastWithinGuardrail
        && (bestWithinLimit == null || OperatingPointSearch.BETTER_FIRST.compare(p, bestWithinLimit) < 0);
    if (progress) {
      bestWithinLimit = p;
      sinceProgress = 0;
    } else {
      sinceProgress++;
    }
    return sinceProgress < patience;
  }

  @Override
  public boolean lastWithinGuardrail() {
    return lastWithinGuardrail;
  }

  private static KeptPoint keepBetter(KeptPoint kept, OperatingPoint p, MultiLayerNetwork model,
      Comparator<OperatingPoint> order) {
    if (kept != null && order.compare(p, kept.point()) >= 0) {
      return kept;
    }
    return new KeptPoint(p, NetworkBytes.paramBytes(model.params()));
  }

  /** What this path found. */
  public SettingOutcome outcome() {
    List<KeptPoint> kept = new ArrayList<>();
    for (KeptPoint k : new KeptPoint[] {bestAdmissible, closestFixing, bestOverall}) {
      if (k != null && kept.stream().noneMatch(x -> x.point().equals(k.point()))) {
        kept.add(k);
      }
    }
    return new SettingOutcome(List.copyOf(points), kept);
  }

  /** A point with the parameters of its model ({@link NetworkBytes#paramBytes}). */
  public record KeptPoint(OperatingPoint point, byte[] params) implements Serializable {}

  /**
   * Every point of one setting's path, and the parameters of the few the choice can pick.
   *
   * @param points in path order
   * @param kept the path's best admissible point, its closest point that fixes a failure, and its best point overall
   *     (those that exist, without repeats)
   */
  public record SettingOutcome(List<OperatingPoint> points, List<KeptPoint> kept) implements Serializable {}
}
