package dev.lethe.repair;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lethe.data.ExampleSet;
import dev.lethe.math.LogLikelihood;
import dev.lethe.model.Predictor;
import dev.lethe.repair.RepairEvaluation.Accuracies;
import dev.lethe.repair.RepairEvaluation.Guardrail;
import dev.lethe.repair.RepairEvaluation.Sets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Energy-based alignment on the convex fixture, whose culprits C are the 20 flipped labels (class 0 -> 1), with
 * theta_hat's energy ({@link AlignEnergyModelTest} has the retrained one).
 */
class AlignTest {
  static ConvexRepairFixture fx;
  /** theta_hat's energy, no margin, the unaligned culprits kept. */
  static final AlignOptions BASE_ENERGY = new AlignOptions(0, 0.03, 0.01, 0, 1);

  @BeforeAll
  static void fixture() {
    fx = new ConvexRepairFixture();
  }

  static RepairInputs inputs(AlignOptions align) {
    RepairOptions o = RepairOptions.defaults()
        .withFinetune(new RepairOptions.Finetuning(1e-2, 32, 8, 3, 0.1, 1e-2))
        .withSearch(new RepairOptions.Search(2, new double[] {0.1}, new double[] {1e-4}, new double[] {0.1},
            new double[] {1e-2}, new double[] {0.0}, new double[] {0.1}, 0, 1))
        .withAlign(align);
    return new RepairInputs(fx.model, fx.fisher, fx.train, fx.culprits, fx.query, o, 7);
  }

  @Test
  void relabellingRestoresTheFlippedLabels() {
    RepairInputs in = inputs(BASE_ENERGY);
    LabelAlignment a = LabelAlignment.of(in);
    RepairReport.LabelChanges c = a.changes(true);
    for (int i = 0; i < a.aligned().size(); i++) {
      double[] z = LogLikelihood.logitsInDouble(fx.model, fx.culprits.select(new int[] {i}), 1)[0];
      for (int y = 0; y < z.length; y++) {
        assertThat(LabelAlignment.energy(z, a.aligned().label(i))).isLessThanOrEqualTo(LabelAlignment.energy(z, y));
      }
      assertThat(a.aligned().features(i)).isSameAs(fx.culprits.features(i));
    }
    System.err.printf("align: %d of %d culprit labels changed, %d restored to the original label%n", c.changed(),
        c.culprits(), c.restoredOriginal());
    assertThat(c.culprits()).isEqualTo(ConvexRepairFixture.FLIPS);
    assertThat(c.changed()).isPositive();
    assertThat(c.restoredShare()).isGreaterThanOrEqualTo(0.8);
    assertThat(c.changes()).allSatisfy(ch -> assertThat(ch.from()).isEqualTo(1));
    assertThat(c.inputsMoved()).isZero();
    // D with the aligned rows: only the culprits' labels differ, ids and order kept
    ExampleSet d = a.alignedTrain(fx.train);
    int differ = 0;
    for (int i = 0; i < d.size(); i++) {
      assertThat(d.id(i)).isEqualTo(fx.train.id(i));
      differ += d.label(i) != fx.train.label(i) ? 1 : 0;
    }
    assertThat(differ).isEqualTo(c.changed());
  }

  @Test
  void fineTuningOnTheAlignedDataImprovesCleanAccuracyAndRunsInTheSearch() {
    RepairInputs in = inputs(BASE_ENERGY);
    Repaired t = new Align().apply(in);
    double before = Predictor.accuracy(fx.model, fx.test);
    double after = Predictor.accuracy(t.model(), fx.test);
    System.err.printf("align: clean test accuracy %.4f -> %.4f; %s%n", before, after, t.diagnostics());
    assertThat(t.diagnostics()).containsEntry("method", Align.NAME).containsEntry("trainedOn", ConvexRepairFixture.N);
    assertThat(after).isGreaterThan(before);
    assertThat(new Align().apply(in).model().params()).isEqualTo(t.model().params());

    // the operating-point search: one setting per fine-tuning learning rate (one here), each path its epochs
    int half = fx.test.size() / 2;
    Sets s = new Sets(fx.query, fx.test.select(java.util.stream.IntStream.range(0, half).toArray()),
        fx.query.select(new int[0]), fx.test.select(java.util.stream.IntStream.range(half, fx.test.size()).toArray()));
    Accuracies base = Accuracies.of(fx.model, s);
    Guardrail g = new Guardrail(5.0);
    Align m = new Align();
    RepairInputs prepared = m.prepare(in);
    List<Knobs> grid = m.grid(prepared);
    assertThat(grid).hasSize(1);
    List<PathRecorder.SettingOutcome> outcomes = new ArrayList<>();
    for (int i = 0; i < grid.size(); i++) {
      outcomes.add(OperatingPointSearch.runSetting(m, prepared, s, base, g, i, grid.get(i)));
    }
    OperatingPointSearch.Result r = OperatingPointSearch.merge(outcomes, base, g);
    assertThat(r.frontier()).isNotEmpty();
    assertThat(r.frontier()).allSatisfy(p -> assertThat(p.knobs().asMap()).containsKeys("learning_rate", "epoch"));
    assertThat(m.grid(new RepairInputs(fx.model, fx.fisher, fx.train, fx.culprits.select(new int[0]), fx.query,
        in.options(), 7))).isEmpty();
  }

  @Test
  void theSearchRefusesInputsThatWereNotPrepared() {
    RepairInputs unprepared = inputs(AlignOptions.defaults());
    assertThat(unprepared.alignment()).isNull();
    Align m = new Align();
    Knobs setting = m.grid(unprepared).get(0);
    assertThatThrownBy(() -> m.trace(unprepared, setting, (k, net) -> true))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("Align.prepare");
  }

  @Test
  void inputStepsLowerTheEnergyWithinTheBall() {
    AlignOptions o = new AlignOptions(5, 0.1, 0.05, -10, 10);
    LabelAlignment a = LabelAlignment.of(inputs(o));
    double[][] z0 = LogLikelihood.logitsInDouble(fx.model, a.original(), 16);
    double[][] z1 = LogLikelihood.logitsInDouble(fx.model, a.aligned(), 16);
    for (int i = 0; i < a.aligned().size(); i++) {
      int y = a.aligned().label(i);
      assertThat(LabelAlignment.energy(z1[i], y)).as("row %d", i).isLessThan(LabelAlignment.energy(z0[i], y));
      float[] x0 = a.original().features(i);
      float[] x1 = a.aligned().features(i);
      for (int j = 0; j < x0.length; j++) {
        assertThat(Math.abs(x1[j] - x0[j])).isLessThanOrEqualTo(0.1f + 1e-6f);
      }
    }
    assertThat(a.changes(true).inputsMoved()).isEqualTo(ConvexRepairFixture.FLIPS);
    assertThatOptionsNameTheirKeys();
  }

  /**
   * With a margin, only the culprits the model disputes by at least that many nats are relabelled; the others keep
   * their label (held), or leave D under {@code unaligned = drop}.
   */
  @Test
  void aMarginHoldsNarrowlyDisputedLabelsAndDropRemovesThem() {
    double[][] z = LogLikelihood.logitsInDouble(fx.model, fx.culprits, 16);
    List<Double> gaps = new ArrayList<>();
    for (int i = 0; i < fx.culprits.size(); i++) {
      int best = LabelAlignment.lowestEnergy(z[i]);
      if (best != fx.culprits.label(i)) {
        gaps.add(LabelAlignment.energyGap(z[i], fx.culprits.label(i), best));
      }
    }
    gaps.sort(null);
    assertThat(gaps).hasSizeGreaterThan(2);
    double margin = gaps.get(gaps.size() / 2);
    long above = gaps.stream().filter(g -> g >= margin).count();
    for (String unaligned : new String[] {AlignOptions.KEEP, AlignOptions.DROP}) {
      LabelAlignment a = LabelAlignment.of(inputs(new AlignOptions(0, 0.03, 0.01, 0, 1, margin, unaligned)));
      RepairReport.LabelChanges c = a.changes(true);
      assertThat(c.changed()).isEqualTo((int) above);
      assertThat(c.held()).isEqualTo(gaps.size() - (int) above);
      for (RepairReport.LabelChange ch : c.changes()) {
        int i = java.util.Arrays.asList(java.util.Arrays.stream(fx.culprits.ids()).boxed().toArray(Long[]::new))
            .indexOf(ch.id());
        assertThat(LabelAlignment.energyGap(z[i], ch.from(), ch.to())).isGreaterThanOrEqualTo(margin);
      }
      int expectedDropped = unaligned.equals(AlignOptions.DROP) ? c.culprits() - c.changed() : 0;
      assertThat(c.dropped()).isEqualTo(expectedDropped);
      assertThat(a.alignedTrain(fx.train).size()).isEqualTo(fx.train.size() - expectedDropped);
    }
    // a margin no gap reaches relabels nothing
    RepairReport.LabelChanges none = LabelAlignment.of(inputs(new AlignOptions(0, 0.03, 0.01, 0, 1, 1e6,
        AlignOptions.KEEP))).changes(true);
    assertThat(none.changed()).isZero();
    assertThat(none.held()).isEqualTo(gaps.size());
  }

  private static void assertThatOptionsNameTheirKeys() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new AlignOptions(0, 0.1, 0.01, 0, 1, -0.5, "keep"))
        .hasMessageContaining("repair.align.min-energy-gap");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new AlignOptions(0, 0.1, 0.01, 0, 1, 0, "delete"))
        .hasMessageContaining("repair.align.unaligned");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new AlignOptions(-1, 0.1, 0.01, 0, 1))
        .hasMessageContaining("repair.align.input-steps");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new AlignOptions(1, 0.1, 0, 0, 1))
        .hasMessageContaining("repair.align.input-step-size");
  }
}
