package dev.lethe.repair;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * A repaired model.
 *
 * @param model the repaired network (a new network, never theta_hat's instance)
 * @param diagnostics what the method did, in insertion order (method, epochs, distances, solver residuals,
 *     log-likelihoods before and after; {@code noOp = true} when the repair did not run, e.g. an empty C;
 *     {@code keptThetaHat = true} when an early-stopped update ran but no epoch beat theta_hat itself)
 * @param millis wall-clock time
 */
public record Repaired(MultiLayerNetwork model, Map<String, Object> diagnostics, long millis) {
  /** Key set to {@code true} when the repair returned theta_hat unchanged. */
  public static final String NO_OP = "noOp";

  public Repaired {
    if (model == null) {
      throw new IllegalArgumentException("a repaired model must be given");
    }
    diagnostics = Collections.unmodifiableMap(new LinkedHashMap<>(diagnostics));
  }

  /** True if the repair returned theta_hat unchanged (e.g. an empty culprit set). */
  public boolean noOp() {
    return Boolean.TRUE.equals(diagnostics.get(NO_OP));
  }
}
