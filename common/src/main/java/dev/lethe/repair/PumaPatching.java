package dev.lethe.repair;

import dev.lethe.math.ConjugateGradient;
import dev.lethe.math.PerExampleGradients;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * "puma": model patching by data valuation (PUMA). Remove the culprits' influence and compensate by upweighting
 * retained examples so that a metric M, the loss on the benchmark cases B, stays where it was:
 *
 * <pre>
 *   psi(z)  = grad M(theta_hat)^T H^-1 grad L(z)                    (the data value of z for M; L = -log p)
 *   lambda* = argmin_{lambda >= 0} || sum_{j in D_up} lambda_j psi_j - sum_{k in C} psi_k ||^2 + ridge ||lambda||^2
 *   theta   = theta_hat - (eta / 2) H^-1 (1/|C|) [ sum_{k in C} grad log p(z_k) - sum_j lambda*_j grad log p(z_j) ]
 * </pre>
 *
 * <p>The last line is PUMA's theta_hat + eta' [sum_C phi_k - sum_j lambda_j phi_j], phi = H^-1 grad L, with
 * eta' = eta / (2|C|): the scale of {@link NewtonRemoval}'s gamma, so that with lambda = 0 ({@code repair.puma.upweight
 * = none}) PUMA is exactly the Newton removal of C with gamma = eta. To first order the change of M is eta' [sum_C
 * psi_k - sum_j lambda_j psi_j], which lambda* cancels up to the ridge. The fit has a closed form: with S = sum_C
 * psi_k, lambda_j = max(0, psi_j t), t = S / (ridge + sum over j with psi_j S > 0 of psi_j^2).
 *
 * <p>H = N (F + damping I) as in {@link NewtonRemoval} ({@link InverseCurvature}; N is absorbed into eta). D_up =
 * D \ C. Two solves: H^-1 grad M for the data values, and one for the patch direction (by linearity). An empty C is
 * a no-op; an empty B means no compensation.
 */
public final class PumaPatching implements RepairMethod {
  public static final String NAME = "puma";

  @Override
  public String name() {
    return NAME;
  }

  /** The patch at {@code repair.puma.eta}. */
  @Override
  public Repaired apply(RepairInputs in) {
    long t0 = System.nanoTime();
    if (in.culprits().size() == 0) {
      return RepairDiagnostics.unchanged(NAME, in, "empty culprit set", t0);
    }
    Map<String, Object> d = RepairDiagnostics.start(NAME, in);
    double eta = in.options().puma().eta();
    d.put("eta", eta);
    MultiLayerNetwork after = NewtonRemoval.step(in, direction(in, d), eta);
    return RepairDiagnostics.finish(d, in, after, t0);
  }

  /**
   * One setting: the direction is solved once; its path is the step sizes {@code repair.search.puma.eta}, refined
   * towards the guardrail's edge ({@link StepSizePath}).
   */
  @Override
  public List<Knobs> grid(RepairInputs in) {
    return in.culprits().size() == 0 ? List.of() : List.of(Knobs.none());
  }

  @Override
  public void trace(RepairInputs in, Knobs setting, RepairPath path) {
    StepSizePath.follow(in, direction(in, RepairDiagnostics.start(NAME, in)), setting, "eta",
        in.options().search().pumaEta(), in.options().search().stepRefinements(), path);
  }

  /**
   * H^-1 (1/|C|) [sum_C grad log p - sum_j lambda*_j grad log p(z_j)] (the Newton direction of C when there is no
   * compensation); the fit's figures go into {@code d}.
   */
  static double[] direction(RepairInputs in, Map<String, Object> d) {
    MultiLayerNetwork model = in.model();
    int c = in.culprits().size();
    double[] r = PerExampleGradients.sumArray(model, in.culprits(), 256);
    InverseCurvature curvature = InverseCurvature.of(in, NAME, d);
    boolean compensate = RepairOptions.Puma.RETAINED.equals(in.options().puma().upweight())
        && in.benchmark().size() > 0;
    d.put("upweight", compensate ? RepairOptions.Puma.RETAINED : RepairOptions.Puma.NONE);
    if (compensate) {
      double[] gm = PerExampleGradients.sumArray(model, in.benchmark(), 256);
      for (int j = 0; j < gm.length; j++) {
        gm[j] /= in.benchmark().size();
      }
      double[] v = curvature.solve(gm, d, "values.");
      double removed = sum(dataValues(model, in.culprits(), v));
      var retained = in.retained();
      double[] psi = dataValues(model, retained, v);
      double[] lambda = weights(psi, removed, in.options().puma().ridge());
      double[] up = weightedGradientSum(model, retained, lambda);
      double compensated = 0;
      int upweighted = 0;
      for (int j = 0; j < psi.length; j++) {
        compensated += lambda[j] * psi[j];
        upweighted += lambda[j] > 0 ? 1 : 0;
      }
      for (int j = 0; j < r.length; j++) {
        r[j] -= up[j];
      }
      d.put("removedDataValue", removed);
      d.put("compensatedDataValue", compensated);
      d.put("upweighted", upweighted);
      d.put("lambdaSum", sum(lambda));
    }
    for (int j = 0; j < r.length; j++) {
      r[j] /= c;
    }
    d.put("patchGradientNorm", ConjugateGradient.norm(r));
    return curvature.solve(r, d, "");
  }

  /**
   * lambda* = argmin_{lambda >= 0} ||sum_j lambda_j psi_j - target||^2 + ridge ||lambda||^2, in closed form (one
   * linear constraint: lambda_j = max(0, psi_j t), t = target / (ridge + sum of psi_j^2 over the same-sign j)).
   */
  static double[] weights(double[] psi, double target, double ridge) {
    double norm = 0;
    for (double p : psi) {
      if (p * target > 0) {
        norm += p * p;
      }
    }
    double t = target / (ridge + norm);
    double[] lambda = new double[psi.length];
    for (int j = 0; j < psi.length; j++) {
      lambda[j] = Math.max(0, psi[j] * t);
    }
    return lambda;
  }

  /** psi_j = v . grad log p(z_j) for every row (v = H^-1 grad mean log p(B), so psi_j = grad M^T H^-1 grad L_j). */
  static double[] dataValues(MultiLayerNetwork model, dev.lethe.data.ExampleSet s, double[] v) {
    double[] psi = new double[s.size()];
    PerExampleGradients.forEach(model, s, (row, g) -> {
      double[] gv = g.toDoubleVector();
      double dot = 0;
      for (int j = 0; j < gv.length; j++) {
        dot += v[j] * gv[j];
      }
      psi[row] = dot;
    });
    return psi;
  }

  /** sum_j weights_j grad log p(z_j), visiting only the rows with a non-zero weight. */
  private static double[] weightedGradientSum(MultiLayerNetwork model, dev.lethe.data.ExampleSet s,
      double[] weights) {
    int[] rows = java.util.stream.IntStream.range(0, s.size()).filter(j -> weights[j] != 0).toArray();
    double[] sum = new double[Math.toIntExact(model.numParams())];
    PerExampleGradients.forEach(model, s.select(rows), (row, g) -> {
      double w = weights[rows[row]];
      double[] gv = g.toDoubleVector();
      for (int j = 0; j < gv.length; j++) {
        sum[j] += w * gv[j];
      }
    });
    return sum;
  }

  private static double sum(double[] a) {
    double s = 0;
    for (double x : a) {
      s += x;
    }
    return s;
  }
}
