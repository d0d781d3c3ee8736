package dev.lethe.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lethe.data.ExampleSet;
import dev.lethe.influence.EwcInfluence;
import dev.lethe.influence.EwcOptions;
import dev.lethe.influence.InfluenceInputs;
import dev.lethe.influence.InfluenceOptions;
import dev.lethe.influence.PreparedInfluence;
import dev.lethe.influence.Scorer;
import dev.lethe.math.DiagonalFisher;
import dev.lethe.math.EmpiricalFisher;
import dev.lethe.repair.EwcDeletion;
import dev.lethe.repair.RepairInputs;
import dev.lethe.repair.RepairOptions;
import dev.lethe.repair.Repaired;
import java.util.Arrays;
import java.util.stream.IntStream;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/** The imported model forms through fisher, ewc-influence and ewc-deletion, as the stages run them. */
final class MethodChecks {
  private MethodChecks() {}

  /**
   * Asserts that the Fisher diagonal of {@code net} over {@code train} is finite, non-negative and not zero; that
   * ewc-influence towards {@code query} raises its mean log-likelihood and scores every training row finitely; and
   * that ewc-deletion of the first 20 training rows, early-stopped on {@code deletionQuery}, lowers theirs.
   */
  static void fisherEwcInfluenceAndEwcDeletion(MultiLayerNetwork net, ExampleSet train, ExampleSet query,
      ExampleSet deletionQuery) {
    DiagonalFisher fisher = EmpiricalFisher.compute(net, train);
    assertThat(fisher.values()).hasSize((int) net.numParams());
    assertThat(Arrays.stream(fisher.values()).allMatch(v -> Double.isFinite(v) && v >= 0)).isTrue();
    assertThat(Arrays.stream(fisher.values()).sum()).isPositive();

    PreparedInfluence p = new EwcInfluence().prepare(new InfluenceInputs(net, fisher, query, null, train.size(),
        InfluenceOptions.defaults().withEwc(new EwcOptions(0.03, 1e-3, 1e-2, 5, 20, 5, 0.0)), 7));
    assertThat((double) p.diagnostics().get("queryMeanLogpAfter"))
        .isGreaterThan((double) p.diagnostics().get("queryMeanLogpBefore"));
    double[] r;
    try (Scorer s = p.spec().open()) {
      r = s.score(train).score();
    }
    assertThat(r).hasSize(train.size());
    assertThat(Arrays.stream(r).allMatch(Double::isFinite)).isTrue();

    ExampleSet culprits = train.select(IntStream.range(0, 20).toArray());
    Repaired t = new EwcDeletion().apply(new RepairInputs(net, fisher, train, culprits, deletionQuery,
        RepairOptions.defaults().withEwc(new RepairOptions.Ewc(0.1, 1e-3, 1e-2, 20, 20, 5)), 7));
    assertThat((double) t.diagnostics().get("culpritMeanLogpAfter"))
        .isLessThan((double) t.diagnostics().get("culpritMeanLogpBefore"));
  }
}
