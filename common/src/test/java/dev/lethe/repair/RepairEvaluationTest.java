package dev.lethe.repair;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lethe.data.ExampleSet;
import dev.lethe.repair.RepairEvaluation.Accuracies;
import dev.lethe.repair.RepairEvaluation.Guardrail;
import dev.lethe.repair.RepairEvaluation.Sets;
import org.assertj.core.data.Offset;
import org.junit.jupiter.api.Test;

class RepairEvaluationTest {
  static Accuracies benchmark(double b) {
    return new Accuracies(0.5, b, 0.5, 0.9, 0.8, -1.0);
  }

  @Test
  void guardrailAdmitsOnlyDropsOnTheBenchmarkWithinTheLimit() {
    Guardrail g = new Guardrail(1.0);
    assertThat(g.admits(benchmark(0.90), benchmark(0.885))).isFalse();   // 1.5 points
    assertThat(g.admits(benchmark(0.90), benchmark(0.895))).isTrue();    // 0.5 points
    assertThat(g.admits(benchmark(0.90), benchmark(0.95))).isTrue();     // improvement
    assertThat(g.admits(benchmark(0.50), benchmark(0.49))).isTrue();     // exactly 1 point: not MORE than 1
    assertThat(new Guardrail(0).admits(benchmark(0.90), benchmark(0.8999))).isFalse();
    assertThat(g.admits(benchmark(Double.NaN), benchmark(Double.NaN))).isFalse();  // no B: nothing can be checked
    assertThat(Guardrail.dropPoints(benchmark(0.9), benchmark(0.85))).isCloseTo(5.0, Offset.offset(1e-9));
    // only B counts: a large drop elsewhere is the report's business, not the guardrail's
    Accuracies worseElsewhere = new Accuracies(0.5, 0.9, 0.0, 0.1, 0.2, -9.0);
    assertThat(g.admits(benchmark(0.9), worseElsewhere)).isTrue();
    assertThatThrownBy(() -> new Guardrail(-1)).hasMessageContaining("repair.max-benchmark-drop");
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
    ExampleSet b = rest.select(java.util.stream.IntStream.range(0, rest.size() / 3).toArray());
    ExampleSet r = rest.select(java.util.stream.IntStream.range(rest.size() / 3, rest.size()).toArray());
    Accuracies a = Accuracies.of(fx.model, new Sets(fq, b, fh, r));
    assertThat(a.query()).isEqualTo(0.0);
    assertThat(a.holdout()).isEqualTo(0.0);
    assertThat(a.benchmark()).isEqualTo(1.0);
    assertThat(a.correctHoldout()).isEqualTo(1.0);
    assertThat(a.test()).isCloseTo(rest.size() / (double) fx.test.size(), Offset.offset(1e-12));
    assertThat(a.queryLogp()).isNegative().isCloseTo(dev.lethe.math.LogLikelihood.meanInDouble(fx.model, fq, 64),
        Offset.offset(1e-12));
    Accuracies noHoldout = Accuracies.of(fx.model, new Sets(fq, b, fh.select(new int[0]), r));
    assertThat(noHoldout.holdout()).isNaN();
    assertThat(noHoldout.test()).isCloseTo(rest.size() / (double) (rest.size() + fq.size()), Offset.offset(1e-12));
  }
}
