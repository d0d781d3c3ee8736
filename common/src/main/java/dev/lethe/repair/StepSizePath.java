package dev.lethe.repair;

/**
 * The path of a one-direction repair (newton-removal, puma): theta_hat - (s / 2) x for the step sizes s of a grid in
 * increasing order, then a bisection that locates the guardrail's edge between grid points.
 *
 * <p>A grid spaced by factors of about 3 can stop well short of the guardrail (e.g. a step that costs B 0.7 points is
 * accepted and the next costs 2.1 points against a limit of 2). After the grid, the path therefore bisects, in
 * log-space, between the largest step whose B accuracy stayed within the guardrail and the next larger step measured:
 * each midpoint sqrt(lo hi) becomes the new lo when it stays within the guardrail, else the new hi. {@code r} steps
 * narrow the ratio hi / lo to its {@code 2^r}-th root. The bisection assumes B accuracy falls as the step grows; where
 * it does not, the search still picks by its rule among every point measured. Without a step within the guardrail,
 * or when the last grid step is still within it, there is nothing to bisect.
 *
 * <p>The grid is followed until the path's patience ends it; the bisection's points follow regardless (they are
 * few), since they lie below a step the grid measured.
 */
final class StepSizePath {
  private StepSizePath() {}

  /**
   * Offers theta_hat - (s / 2) x for each step s of {@code steps} (increasing) and then {@code refinements} bisection
   * steps, as knob {@code knob} added to {@code setting}.
   */
  static void follow(RepairInputs in, double[] x, Knobs setting, String knob, double[] steps, int refinements,
      RepairPath path) {
    double lo = Double.NaN;
    double hi = Double.NaN;
    for (double s : steps) {
      boolean goOn = path.offer(setting.with(knob, s), NewtonRemoval.step(in, x, s));
      if (path.lastWithinGuardrail()) {
        lo = s;
        hi = Double.NaN;
      } else if (!Double.isNaN(lo) && Double.isNaN(hi)) {
        hi = s;
      }
      if (!goOn) {
        break;
      }
    }
    if (Double.isNaN(lo) || Double.isNaN(hi)) {
      return;
    }
    for (int i = 0; i < refinements; i++) {
      double mid = Math.sqrt(lo * hi);
      path.offer(setting.with(knob, mid), NewtonRemoval.step(in, x, mid));
      if (path.lastWithinGuardrail()) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
  }
}
