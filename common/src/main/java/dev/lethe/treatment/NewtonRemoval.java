package dev.lethe.treatment;

import dev.lethe.LetheInputException;
import dev.lethe.Seeds;
import dev.lethe.data.ExampleSet;
import dev.lethe.math.ConjugateGradient;
import dev.lethe.math.DiagonalOperator;
import dev.lethe.math.EmpiricalFisherOperator;
import dev.lethe.math.LinearOperator;
import dev.lethe.math.Lissa;
import dev.lethe.math.NetworkBytes;
import dev.lethe.math.PerExampleGradients;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;
import java.util.function.LongFunction;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 * <p>Curvature: "full" = the empirical Fisher over a seeded sample (without replacement) of D, applied
 * matrix-free ({@link EmpiricalFisherOperator}); "diagonal" = the Fisher diagonal ({@link DiagonalOperator}).
 * Solver: Jacobi-preconditioned CG ({@link ConjugateGradient}) or {@link Lissa}. An empty C is a no-op.
 */
public final class NewtonRemoval implements TreatmentMethod {
  private static final Logger LOG = LoggerFactory.getLogger(NewtonRemoval.class);
  public static final String NAME = "newton-removal";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Treated apply(TreatmentInputs in) {
    long t0 = System.nanoTime();
    if (in.culprits().size() == 0) {
      return TreatmentDiagnostics.unchanged(NAME, in, "empty culprit set", t0);
    }
    MultiLayerNetwork model = in.model();
    TreatmentOptions.Newton o = in.options().newton();
    int c = in.culprits().size();
    int n = in.trainSize();
    double gamma = o.effectiveGamma(c, n);
    double[] g = PerExampleGradients.sumArray(model, in.culprits(), 256);
    for (int j = 0; j < g.length; j++) {
      g[j] /= c;
    }
    Map<String, Object> d = TreatmentDiagnostics.start(NAME, in);
    d.put("gamma", gamma);
    d.put("exactRemovalGamma", 2.0 * c / n);
    d.put("curvature", o.curvature());
    d.put("damping", o.damping());
    d.put("solver", o.solver());
    d.put("culpritGradientNorm", ConjugateGradient.norm(g));

    LinearOperator damped;
    LongFunction<LinearOperator> minibatch;
    DoubleSupplier minibatchBound;
    double[] jacobi;
    if (TreatmentOptions.Newton.DIAGONAL.equals(o.curvature())) {
      if (in.fisher() == null) {
        throw LetheInputException.of("%s with diagonal curvature needs the Fisher diagonal (run the fisher stage)",
            NAME);
      }
      in.fisher().requireMatches(model.numParams(), NetworkBytes.fingerprint(model), "Fisher diagonal");
      DiagonalOperator diag = new DiagonalOperator(in.fisher().values(), o.damping());
      DiagonalOperator undamped = new DiagonalOperator(in.fisher().values(), 0);
      damped = diag;
      minibatch = s -> undamped;
      minibatchBound = undamped::largestUndampedEntry;
      jacobi = diag.diagonal();
    } else {
      ExampleSet sample = curvatureSample(in.train(), o.curvatureSamples(), Seeds.derive(in.seed(),
          NAME + ".curvature"));
      EmpiricalFisherOperator f = new EmpiricalFisherOperator(model, sample, o.damping());
      damped = f;
      int m = sample.size();
      int k = o.lissaBatchSize();
      minibatch = s -> f.randomMinibatch(s, k);
      minibatchBound = f::largestSquaredGradientNorm;
      jacobi = TreatmentOptions.Newton.CG.equals(o.solver()) ? f.diagonal() : null;
      d.put("curvatureSampleSize", m);
    }

    double[] x;
    if (TreatmentOptions.Newton.LISSA.equals(o.solver())) {
      x = Lissa.solve(damped, minibatch, minibatchBound, g, o.damping(), o.lissaScale(), o.lissaDepth(),
          o.lissaRepeats(), Seeds.derive(in.seed(), NAME + ".lissa"), d);
    } else {
      ConjugateGradient.Result r = ConjugateGradient.solve(damped, g, o.cgMaxIterations(), o.cgTolerance(), jacobi);
      x = r.x();
      d.put("cgIterations", r.iterations());
      d.put("relResidual", r.relResidual());
      if (r.relResidual() > o.cgTolerance()) {
        LOG.warn("{}: CG stopped after {} iterations at relative residual {} (target {})", NAME, r.iterations(),
            r.relResidual(), o.cgTolerance());
      }
    }
    double[] theta = model.params().reshape(-1).castTo(org.nd4j.linalg.api.buffer.DataType.DOUBLE)
        .toDoubleVector();
    for (int j = 0; j < theta.length; j++) {
      theta[j] -= gamma / 2 * x[j];
    }
    d.put("stepNorm", gamma / 2 * ConjugateGradient.norm(x));
    MultiLayerNetwork after = in.copyOfModel();
    after.setParams(Nd4j.createFromArray(theta).castTo(model.params().dataType()).reshape(model.params().shape()));
    TreatmentDiagnostics.finish(d, in, after);
    long millis = (System.nanoTime() - t0) / 1_000_000;
    LOG.info("{}: {}", NAME, d);
    return new Treated(after, d, millis);
  }

  /** A seeded sample of {@code m} rows of D without replacement, in training order (m = 0 or >= N: all of D). */
  static ExampleSet curvatureSample(ExampleSet train, int m, long seed) {
    int n = train.size();
    if (m == 0 || m >= n) {
      return train;
    }
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    SplittableRandom rng = new SplittableRandom(seed);
    for (int i = 0; i < m; i++) {
      int j = i + rng.nextInt(n - i);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    int[] rows = Arrays.copyOf(p, m);
    Arrays.sort(rows);
    return train.select(rows);
  }


}
