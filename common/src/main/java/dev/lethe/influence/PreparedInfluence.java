package dev.lethe.influence;

import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * A prepared method: the serialisable scorer to ship to the data, the updated model theta* where the method
 * makes one (ewc-influence; null otherwise), and diagnostics for the run record (strings and numbers).
 */
public record PreparedInfluence(ScorerSpec spec, MultiLayerNetwork updatedModel, Map<String, Object> diagnostics) {
  public PreparedInfluence {
    // keep the method's insertion order for the run record
    diagnostics = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(diagnostics));
  }
}
