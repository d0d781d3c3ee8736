package dev.lethe.repair;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * Where a repair reports the points of one setting's path: the model after each epoch of an update, or at each
 * step size of a Newton-type step. The operating-point search evaluates each point and says when to stop.
 */
@FunctionalInterface
public interface RepairPath {
  /**
   * @param point the setting's knobs and the path's own (e.g. {@code epoch})
   * @param model the model at that point (read only; its parameters are copied if kept)
   * @return whether the path should go on
   */
  boolean offer(Knobs point, MultiLayerNetwork model);

  /**
   * Whether the last point offered kept the accuracy on B within the guardrail ({@link StepSizePath} bisects towards
   * the guardrail's edge with it). A path that does not measure B says false, and so gets no bisection.
   */
  default boolean lastWithinGuardrail() {
    return false;
  }
}
