package dev.lethe.treatment;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lethe.data.ExampleSet;
import dev.lethe.treatment.RepairEvaluation.Accuracies;
import dev.lethe.treatment.RepairEvaluation.Guardrail;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

class RepairEvaluationTest {
  static Accuracies remaining(double r) {
    return new Accuracies(0.5, 0.5, r, 0.8);
  }

  @Test
  void guardrailRejectsOnlyDropsAboveTheThreshold() {
    Guardrail g = new Guardrail(1.0);
    assertThat(g.rejects(remaining(0.90), remaining(0.885))).isTrue();    // 1.5 points
    assertThat(g.rejects(remaining(0.90), remaining(0.895))).isFalse();   // 0.5 points
    assertThat(g.rejects(remaining(0.90), remaining(0.95))).isFalse();    // improvement
    assertThat(g.rejects(remaining(0.50), remaining(0.49))).isFalse();    // exactly 1 point: not MORE than 1
    assertThat(new Guardrail(0).rejects(remaining(0.90), remaining(0.8999))).isTrue();
    assertThat(g.rejects(remaining(Double.NaN), remaining(Double.NaN))).isFalse();  // T\F empty
    assertThat(Guardrail.dropPoints(remaining(0.9), remaining(0.85))).isCloseTo(5.0, Offset.offset(1e-9));
    assertThatThrownBy(() -> new Guardrail(-1)).hasMessageContaining("repair.max-remaining-drop");
  }

  @Test
  void accuraciesAreSizeWeightedOverTheTestSet() {
    ConvexRepairFixture fx = new ConvexRepairFixture();
    // theta_hat gets every failure wrong and (by construction of T \ F) every other test row right
    java.util.Set<Long> f = new java.util.HashSet<>();
    java.util.Arrays.stream(fx.query.ids()).forEach(f::add);
    ExampleSet rest = fx.test.select(java.util.stream.IntStream.range(0, fx.test.size())
        .filter(i -> !f.contains(fx.test.id(i))).toArray());
    ExampleSet fq = fx.query.select(java.util.stream.IntStream.range(0, fx.query.size() / 2).toArray());
    ExampleSet fh = fx.query.select(java.util.stream.IntStream.range(fx.query.size() / 2, fx.query.size())
        .toArray());
    Accuracies a = Accuracies.of(fx.model, fq, fh, rest);
    assertThat(a.query()).isEqualTo(0.0);
    assertThat(a.holdout()).isEqualTo(0.0);
    assertThat(a.remaining()).isEqualTo(1.0);
    assertThat(a.test()).isCloseTo(rest.size() / (double) fx.test.size(), Offset.offset(1e-12));
    Accuracies noHoldout = Accuracies.of(fx.model, fq, fh.select(new int[0]), rest);
    assertThat(noHoldout.holdout()).isNaN();
    assertThat(noHoldout.test()).isCloseTo(rest.size() / (double) (rest.size() + fq.size()), Offset.offset(1e-12));
  }
}
