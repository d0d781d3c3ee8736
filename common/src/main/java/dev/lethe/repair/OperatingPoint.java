package dev.lethe.repair;

import dev.lethe.repair.RepairEvaluation.Accuracies;
import java.io.Serializable;

/**
 * One candidate of the operating-point search: a point on the path of one setting of a repair's knobs, and how
 * the model there does on every test set.
 *
 * @param setting the index of the setting in the method's grid (ties are broken towards the earlier one)
 * @param step the point's position on its setting's path, from 1
 * @param knobs the setting's knobs and the path's own (e.g. {@code epoch})
 * @param accuracies the model's accuracies there; the search reads only Fq and B
 */
public record OperatingPoint(int setting, int step, Knobs knobs, Accuracies accuracies) implements Serializable {

  /** The B accuracy drop from {@code before}, in points. */
  public double benchmarkDropPoints(Accuracies before) {
    return RepairEvaluation.Guardrail.dropPoints(before, accuracies);
  }
}
