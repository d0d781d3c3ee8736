package dev.lethe.repair;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lethe.data.ExampleSet;
import dev.lethe.math.DiagonalFisher;
import dev.lethe.math.EmpiricalFisher;
import dev.lethe.math.TestNets;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Every repair on a FLOAT network with a hidden layer (the production data type; the convex tests run in
 * double): theta_hat untouched, a new model of the same type and shape with finite parameters that moved.
 */
class RepairMethodsSmokeTest {
  @Test
  void everyMethodRunsOnAFloatNetwork() {
    ExampleSet train = TestNets.randomSet(60, 6, 3, 1, 0);
    ExampleSet query = TestNets.randomSet(12, 6, 3, 2, 1000);
    MultiLayerNetwork model = TestNets.mlp(6, 3, 3, DataType.FLOAT);
    DiagonalFisher fisher = EmpiricalFisher.compute(model, train);
    ExampleSet culprits = train.select(new int[] {0, 5, 10, 15, 20, 25});
    RepairOptions o = new RepairOptions(new RepairOptions.Ewc(0.3, 1e-3, 1e-2, 4, 3, 2),
        new RepairOptions.Newton(0.3, 1e-3, "cg", "full", 30, 50, 1e-6, 0, 50, 1, 8),
        new RepairOptions.Finetuning(1e-2, 16, 3, 2, 0.2, 1e-2));
    INDArray before = model.params().dup();
    for (String name : RepairMethods.names()) {
      for (RepairOptions opts : new RepairOptions[] {o, o.withNewton(o.newton().withSolver("lissa")
          .withCurvature("diagonal", 0))}) {
        if (opts != o && !name.equals(NewtonRemoval.NAME)) {
          continue;
        }
        Repaired t = RepairMethods.byName(name).apply(new RepairInputs(model, fisher, train, culprits, query,
            opts, 7));
        INDArray p = t.model().params();
        assertThat(model.params()).as(name).isEqualTo(before);
        assertThat(t.model()).as(name).isNotSameAs(model);
        assertThat(p.dataType()).as(name).isEqualTo(DataType.FLOAT);
        assertThat(p.shape()).as(name).isEqualTo(before.shape());
        assertThat(p.isInfinite().any() || p.isNaN().any()).as(name).isFalse();
        assertThat(t.diagnostics()).as(name).containsEntry("method", name).containsEntry(Repaired.NO_OP, false);
        assertThat(t.millis()).isGreaterThanOrEqualTo(0);
        if (t.diagnostics().containsKey("keptThetaHat")) {
          // an early-stopped update that kept epoch 0 says so
          assertThat(t.diagnostics().get("keptThetaHat"))
              .isEqualTo((double) t.diagnostics().get("paramDistance") == 0.0);
        }
        System.err.printf("%s: %s%n", name, t.diagnostics());
      }
    }
  }
}
