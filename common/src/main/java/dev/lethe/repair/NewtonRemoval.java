package dev.lethe.repair;

import dev.lethe.math.ConjugateGradient;
import dev.lethe.math.PerExampleGradients;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.factory.Nd4j;

/**
 * "newton-removal" (Tanno et al. 2022, Eq. 14): erase the culprits C with one Newton step,
 *
 * <pre>
 *   theta = theta_hat - (gamma / 2) (F + damping I)^-1 g_C,    g_C = mean_{z in C} grad log p(z | theta_hat)
 * </pre>
 *
 * <p>Derivation and sign. theta_hat maximises L(theta) = sum_{z in D} log p(z | theta) (+ prior). Removing C
 * leaves L_{-C} = L - sum_{z in C} log p(z | theta), whose gradient at theta_hat is -|C| g_C (L's is zero). With
 * the curvature of the sum objective approximated by H = N (F + damping I) (F the empirical Fisher of the MEAN
 * log-likelihood over D; positive definite), the Newton step on L_{-C} is theta_hat + H^-1 grad L_{-C} =
 * theta_hat - (|C| / N) (F + damping I)^-1 g_C: the parameters move AGAINST C's log-likelihood gradient, so
 * log p(C) falls to first order. That is the formula above with gamma = 2|C|/N (config gamma = 0). A free gamma
 * gives the quadratic counterpart of {@link EwcDeletion} with the same gamma: the maximiser of Eq. 15's
 * objective with the data term linearised at theta_hat and lambda folded into the damping (damping = gamma
 * lambda / 2).
 *
 * <p>Curvature and solver: {@link InverseCurvature}. An empty C is a no-op. The search's path is the step size
 * gamma along the one direction.
 */
public final class NewtonRemoval implements RepairMethod {
  public static final String NAME = "newton-removal";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Repaired apply(RepairInputs in) {
    long t0 = System.nanoTime();
    if (in.culprits().size() == 0) {
      return RepairDiagnostics.unchanged(NAME, in, "empty culprit set", t0);
    }
    RepairOptions.Newton o = in.options().newton();
    double gamma = o.effectiveGamma(in.culprits().size(), in.trainSize());
    Map<String, Object> d = RepairDiagnostics.start(NAME, in);
    d.put("gamma", gamma);
    double[] x = direction(in, d);
    MultiLayerNetwork after = step(in, x, gamma);
    d.put("stepNorm", gamma / 2 * ConjugateGradient.norm(x));
    return RepairDiagnostics.finish(d, in, after, t0);
  }

  /**
   * One setting: the direction is solved once; its path is the step sizes {@code repair.search.newton-removal.gamma},
   * refined towards the guardrail's edge ({@link StepSizePath}).
   */
  @Override
  public List<Knobs> grid(RepairInputs in) {
    return in.culprits().size() == 0 ? List.of() : List.of(Knobs.none());
  }

  @Override
  public void trace(RepairInputs in, Knobs setting, RepairPath path) {
    StepSizePath.follow(in, direction(in, RepairDiagnostics.start(NAME, in)), setting, "gamma",
        in.options().search().newtonGamma(), in.options().search().stepRefinements(), path);
  }

  /** x = (F + damping I)^-1 g_C, g_C the mean log-likelihood gradient of C at theta_hat; solver figures into d. */
  static double[] direction(RepairInputs in, Map<String, Object> d) {
    int c = in.culprits().size();
    double[] g = PerExampleGradients.sumArray(in.model(), in.culprits(), 256);
    for (int j = 0; j < g.length; j++) {
      g[j] /= c;
    }
    d.put("exactRemovalGamma", 2.0 * c / in.trainSize());
    d.put("culpritGradientNorm", ConjugateGradient.norm(g));
    return InverseCurvature.of(in, NAME, d).solve(g, d, "");
  }

  /** theta_hat - (gamma / 2) x, as a model with theta_hat's configuration. */
  static MultiLayerNetwork step(RepairInputs in, double[] x, double gamma) {
    MultiLayerNetwork model = in.model();
    double[] theta = model.params().reshape(-1).castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE)
        .toDoubleVector();
    for (int j = 0; j < theta.length; j++) {
      theta[j] -= gamma / 2 * x[j];
    }
    return in.modelWithParams(Nd4j.createFromArray(theta).castTo(model.params().dataType())
        .reshape(model.params().shape()));
  }
}
