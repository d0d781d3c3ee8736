package dev.lethe.repair;

import java.util.List;

/**
 * A way of repairing theta_hat given the culprits C (Tanno et al. 2022, Section 4); see the package docs.
 *
 * <p>A repair is run in two ways. {@link #apply} runs it once at its configured setting. The repair stage
 * instead searches its knobs for an operating point ({@link OperatingPointSearch}): it runs every setting of
 * {@link #grid} independently (one Spark task each) and {@link #trace}s the path of each, e.g. the model after every
 * epoch, or at every step size of a Newton-type step.
 */
public interface RepairMethod {
  /** The configuration name ({@code lethe.repair.method}). */
  String name();

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
}
