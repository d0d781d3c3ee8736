package dev.lethe.repair;

import java.util.List;

/**
 * A way of repairing theta_hat given the culprits C (Tanno et al. 2022, Section 4); see the package docs.
 *
 * <p>A repair is run in two ways. {@link #apply} runs it once at its configured setting. The repair stage
 * instead searches its knobs for an operating point ({@link OperatingPointSearch}): it runs every setting of
 * {@link #grid} independently (one Spark task each) and {@link #trace}s the path of each, e.g. the model after every
 * epoch, or at every step size of a Newton-type step. Work that every setting shares and that needs doing once per
 * run (align's energy model) is done by {@link #prepare} before the grid and travels in the inputs.
 */
public interface RepairMethod {
  /** The configuration name ({@code lethe.repair.method}). */
  String name();

  /**
   * The inputs with whatever this repair computes once per run for all its settings ({@link Align}: the culprits'
   * alignment, whose energy model may be trained from scratch); the repair stage calls it once, before
   * {@link #grid}, and hands the result to every setting. Idempotent. By default the inputs as they are.
   */
  default RepairInputs prepare(RepairInputs in) {
    return in;
  }

  /**
   * Repairs {@code in.model()}, which is not modified. Deterministic: same inputs and seed give identical
   * parameters.
   */
  Repaired apply(RepairInputs in);

  /**
   * The settings the search runs independently of each other, in a fixed order (from {@code repair.search.*}).
   * Empty when there is nothing to repair (e.g. an empty C for the methods that erase it).
   */
  List<Knobs> grid(RepairInputs in);

  /**
   * Follows the path of {@code setting}: offers the model at each of its points to {@code path}, in order, until the
   * path says stop or the path ends. Deterministic for the same inputs, seed and setting.
   */
  void trace(RepairInputs in, Knobs setting, RepairPath path);

  /**
   * The points of a {@link #trace}d path per unit of {@code repair.search.patience}: a training path's points per
   * epoch, so that the patience counts epochs however finely the path is sampled. 1 by default (the patience counts
   * points, e.g. step sizes).
   */
  default int pointsPerPatienceUnit(RepairInputs in) {
    return 1;
  }
}
