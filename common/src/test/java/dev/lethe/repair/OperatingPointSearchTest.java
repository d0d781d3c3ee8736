package dev.lethe.repair;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.lethe.data.ExampleSet;
import dev.lethe.math.DenseSolve;
import dev.lethe.math.NetworkBytes;
import dev.lethe.math.SoftmaxRegressionReference;
import dev.lethe.repair.RepairEvaluation.Accuracies;
import dev.lethe.repair.RepairEvaluation.Guardrail;
import dev.lethe.repair.RepairEvaluation.Sets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The operating-point search: its choice rule on hand-made candidates, and on the convex fixture, where the Newton
 * path theta(gamma) = theta_hat - (gamma/2) (F + damping I)^-1 g_C and every point's accuracies are computed here
 * independently (dense solve, reference predictions), the search must pick the point the rule picks on that exact
 * frontier, with its parameters.
 */
class OperatingPointSearchTest {
  static final int P = SoftmaxRegressionReference.P;
  static final double DAMPING = ConvexRepairFixture.MU / ConvexRepairFixture.N;
  static final double[] GAMMAS = {0.02, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 6.4};
  static ConvexRepairFixture fx;
  static Sets sets;

  @BeforeAll
  static void fixture() {
    fx = new ConvexRepairFixture();
    Set<Long> failed = new HashSet<>();
    for (long id : fx.query.ids()) {
      failed.add(id);
    }
    ExampleSet right = fx.test.select(IntStream.range(0, fx.test.size()).filter(i -> !failed.contains(fx.test.id(i)))
        .toArray());
    int nq = fx.query.size() / 2;
    int nb = right.size() / 2;
    sets = new Sets(fx.query.select(IntStream.range(0, nq).toArray()), right.select(IntStream.range(0, nb).toArray()),
        fx.query.select(IntStream.range(nq, fx.query.size()).toArray()),
        right.select(IntStream.range(nb, right.size()).toArray()));
  }

  static OperatingPoint point(int setting, int step, double fq, double logp, double b) {
    return new OperatingPoint(setting, step, Knobs.of("step", step), new Accuracies(fq, b, 0.3, 0.7, 0.6, logp));
  }

  @Test
  void choosesTheBestAdmissibleCandidateAndTheClosestWhenNoneIs() {
    Accuracies before = new Accuracies(0.0, 1.0, 0.0, 1.0, 0.8, -3.0);
    Guardrail onePoint = new Guardrail(1.0);
    OperatingPoint fixesNothing = point(0, 1, 0.0, -2.0, 1.0);
    OperatingPoint small = point(0, 2, 0.2, -1.5, 0.995);
    OperatingPoint tiedBetterLogp = point(1, 1, 0.2, -1.2, 0.992);
    OperatingPoint tooDamaging = point(1, 2, 0.6, -0.5, 0.95);
    List<OperatingPoint> all = List.of(fixesNothing, small, tiedBetterLogp, tooDamaging);

    Optional<OperatingPointSearch.Choice> c = OperatingPointSearch.choose(all, before, onePoint);
    assertThat(c).isPresent();
    assertThat(c.get().accepted()).isTrue();
    assertThat(c.get().point()).isEqualTo(tiedBetterLogp);
    // a looser limit admits the more damaging, better point
    assertThat(OperatingPointSearch.choose(all, before, new Guardrail(5.0)).get().point()).isEqualTo(tooDamaging);
    // with no admissible candidate: rejected, and the closest candidate that fixes a failure is reported
    OperatingPointSearch.Choice rejected = OperatingPointSearch.choose(List.of(fixesNothing, tooDamaging, point(2, 1,
        0.4, -0.9, 0.97)), before, oneLimit()).get();
    assertThat(rejected.accepted()).isFalse();
    assertThat(rejected.point().setting()).isEqualTo(2);
    // no candidate fixes anything: rejected, the best by the same order
    assertThat(OperatingPointSearch.choose(List.of(fixesNothing), before, oneLimit()).get().accepted()).isFalse();
    assertThat(OperatingPointSearch.choose(List.of(), before, oneLimit())).isEmpty();
  }

  private static Guardrail oneLimit() {
    return new Guardrail(1.0);
  }

  /** The Newton direction of the fixture, dense: (F + damping I)^-1 mean_C grad log p, F the full empirical Fisher. */
  static double[] referenceDirection() {
    double[][] f = new double[P][P];
    for (int i = 0; i < fx.train.size(); i++) {
      double[] g = SoftmaxRegressionReference.gradLogp(fx.thetaHat, fx.train.features(i), fx.train.label(i));
      for (int a = 0; a < P; a++) {
        for (int b = 0; b < P; b++) {
          f[a][b] += g[a] * g[b] / fx.train.size();
        }
      }
    }
    for (int a = 0; a < P; a++) {
      f[a][a] += DAMPING;
    }
    double[] m = new double[P];
    for (int i = 0; i < fx.culprits.size(); i++) {
      double[] g = SoftmaxRegressionReference.gradLogp(fx.thetaHat, fx.culprits.features(i), fx.culprits.label(i));
      for (int a = 0; a < P; a++) {
        m[a] += g[a] / fx.culprits.size();
      }
    }
    return DenseSolve.solve(f, m);
  }

  static double accuracy(double[] t, ExampleSet s) {
    int right = 0;
    for (int i = 0; i < s.size(); i++) {
      right += SoftmaxRegressionReference.predict(t, s.features(i)) == s.label(i) ? 1 : 0;
    }
    return right / (double) s.size();
  }

  static double meanLogp(double[] t, ExampleSet s) {
    return SoftmaxRegressionReference.sumLogp(t, s) / s.size();
  }

  static RepairInputs inputs(Sets s) {
    return inputs(s, 0);
  }

  static RepairInputs inputs(Sets s, int refinements) {
    RepairOptions o = RepairOptions.defaults()
        .withNewton(new RepairOptions.Newton(0.0, DAMPING, "cg", "full", 0, 200, 1e-13, 0.0, 100, 1, 16))
        .withSearch(new RepairOptions.Search(GAMMAS.length, new double[] {0.1}, new double[] {1e-4}, GAMMAS,
            new double[] {1e-3}, new double[] {0.0}, new double[] {0.1}, refinements, 1));
    return new RepairInputs(fx.model, fx.fisher, fx.train, fx.culprits, s.query(), s.benchmark(), o, 7);
  }

  static OperatingPointSearch.Result search(Sets s, Guardrail g) {
    return search(s, g, 0);
  }

  static OperatingPointSearch.Result search(Sets s, Guardrail g, int refinements) {
    RepairInputs in = inputs(s, refinements);
    NewtonRemoval m = new NewtonRemoval();
    Accuracies before = Accuracies.of(fx.model, s);
    List<PathRecorder.SettingOutcome> outcomes = new ArrayList<>();
    List<Knobs> grid = m.grid(in);
    for (int i = 0; i < grid.size(); i++) {
      outcomes.add(OperatingPointSearch.runSetting(m, in, s, before, g, i, grid.get(i)));
    }
    return OperatingPointSearch.merge(outcomes, before, g);
  }

  /** theta_hat - (gamma / 2) x. */
  static double[] newtonPoint(double[] x, double gamma) {
    double[] t = fx.thetaHat.clone();
    for (int a = 0; a < P; a++) {
      t[a] -= gamma / 2 * x[a];
    }
    return t;
  }

  @Test
  void bisectsTowardsTheGuardrailsEdgeAfterTheGrid() {
    int refinements = 3;
    double[] x = referenceDirection();
    double bBefore = accuracy(fx.thetaHat, sets.benchmark());
    int movedPastTheGrid = 0;
    for (double limit : new double[] {1.0, 2.0, 5.0, 10.0, 20.0}) {
      // the bisection, written out on the exact frontier
      List<Double> gammas = new ArrayList<>();
      for (double g : GAMMAS) {
        gammas.add(g);
      }
      double lo = Double.NaN;
      double hi = Double.NaN;
      for (double g : GAMMAS) {
        boolean within = 100 * (bBefore - accuracy(newtonPoint(x, g), sets.benchmark())) <= limit + 1e-9;
        if (within) {
          lo = g;
          hi = Double.NaN;
        } else if (!Double.isNaN(lo) && Double.isNaN(hi)) {
          hi = g;
        }
      }
      double gridLo = lo;
      if (!Double.isNaN(lo) && !Double.isNaN(hi)) {
        for (int i = 0; i < refinements; i++) {
          double mid = Math.sqrt(lo * hi);
          gammas.add(mid);
          if (100 * (bBefore - accuracy(newtonPoint(x, mid), sets.benchmark())) <= limit + 1e-9) {
            lo = mid;
          } else {
            hi = mid;
          }
        }
      }
      movedPastTheGrid += lo > gridLo ? 1 : 0;

      OperatingPointSearch.Result r = search(sets, new Guardrail(limit), refinements);
      assertThat(r.frontier()).as("limit %s", limit).hasSize(gammas.size());
      for (int k = 0; k < gammas.size(); k++) {
        OperatingPoint p = r.frontier().get(k);
        double[] t = newtonPoint(x, gammas.get(k));
        assertThat(p.knobs().get("gamma")).as("limit %s, point %s", limit, k).isCloseTo(gammas.get(k), within(1e-15));
        assertThat(p.accuracies().benchmark()).isEqualTo(accuracy(t, sets.benchmark()));
        assertThat(p.accuracies().query()).isEqualTo(accuracy(t, sets.query()));
      }
      // the choice is the rule's over every point, refined ones included
      Accuracies before = Accuracies.of(fx.model, sets);
      assertThat(r.choice()).isEqualTo(OperatingPointSearch.choose(r.frontier(), before, new Guardrail(limit)));
    }
    // on this fixture the bisection finds a larger step within the guardrail than the grid did for some limit
    assertThat(movedPastTheGrid).isGreaterThan(0);
  }

  @Test
  void picksTheRulesPointOnTheExactFrontierOfAConvexProblem() {
    double[] x = referenceDirection();
    List<double[]> thetas = new ArrayList<>();
    for (double gamma : GAMMAS) {
      double[] t = fx.thetaHat.clone();
      for (int a = 0; a < P; a++) {
        t[a] -= gamma / 2 * x[a];
      }
      thetas.add(t);
    }
    double bBefore = accuracy(fx.thetaHat, sets.benchmark());
    assertThat(bBefore).isEqualTo(1.0);
    Set<Integer> chosenAcrossLimits = new HashSet<>();
    for (double limit : new double[] {0.0, 1.0, 2.0, 5.0, 10.0, 100.0}) {
      // the rule, written out on the exact frontier
      int expected = -1;
      for (int k = 0; k < GAMMAS.length; k++) {
        double fq = accuracy(thetas.get(k), sets.query());
        double drop = 100 * (bBefore - accuracy(thetas.get(k), sets.benchmark()));
        if (fq == 0 || drop > limit + 1e-9) {
          continue;
        }
        if (expected < 0 || fq > accuracy(thetas.get(expected), sets.query())
            || fq == accuracy(thetas.get(expected), sets.query())
            && meanLogp(thetas.get(k), sets.query()) > meanLogp(thetas.get(expected), sets.query())) {
          expected = k;
        }
      }
      OperatingPointSearch.Result r = search(sets, new Guardrail(limit));
      assertThat(r.frontier()).hasSize(GAMMAS.length);
      for (int k = 0; k < GAMMAS.length; k++) {
        Accuracies a = r.frontier().get(k).accuracies();
        assertThat(a.query()).as("Fq at gamma %s", GAMMAS[k]).isEqualTo(accuracy(thetas.get(k), sets.query()));
        assertThat(a.benchmark()).as("B at gamma %s", GAMMAS[k])
            .isEqualTo(accuracy(thetas.get(k), sets.benchmark()));
        assertThat(a.queryLogp()).isCloseTo(meanLogp(thetas.get(k), sets.query()), within(1e-8));
      }
      if (expected < 0) {
        assertThat(r.choice().get().accepted()).as("limit %s", limit).isFalse();
        continue;
      }
      chosenAcrossLimits.add(expected);
      OperatingPointSearch.Choice c = r.choice().get();
      assertThat(c.accepted()).as("limit %s", limit).isTrue();
      assertThat(c.point().knobs().get("gamma")).as("limit %s", limit).isEqualTo(GAMMAS[expected]);
      double[] got = SoftmaxRegressionReference.theta(inputs(sets).modelWithParams(NetworkBytes.params(r.params())));
      for (int a = 0; a < P; a++) {
        assertThat(got[a]).isCloseTo(thetas.get(expected)[a], within(1e-7 * (1 + Math.abs(thetas.get(expected)[a]))));
      }
    }
    // the guardrail binds: different limits choose different points
    assertThat(chosenAcrossLimits).hasSizeGreaterThan(1);
  }

  @Test
  void shufflingTheLabelsOfTheReportOnlySetsChangesNoChoice() {
    Random rng = new Random(5);
    Sets shuffled = new Sets(sets.query(), sets.benchmark(), relabel(sets.holdout(), rng), relabel(sets.correctHoldout(),
        rng));
    for (double limit : new double[] {0.0, 2.0, 10.0}) {
      OperatingPointSearch.Result a = search(sets, new Guardrail(limit));
      OperatingPointSearch.Result b = search(shuffled, new Guardrail(limit));
      assertThat(b.choice().get().point().knobs()).isEqualTo(a.choice().get().point().knobs());
      assertThat(b.choice().get().accepted()).isEqualTo(a.choice().get().accepted());
      assertThat(b.params()).isEqualTo(a.params());
      assertThat(b.frontier()).hasSameSizeAs(a.frontier());
    }
  }

  private static ExampleSet relabel(ExampleSet s, Random rng) {
    int[] labels = new int[s.size()];
    for (int i = 0; i < labels.length; i++) {
      labels[i] = rng.nextInt(SoftmaxRegressionReference.K);
    }
    return s.withLabels(labels, s.corruptions());
  }
}
