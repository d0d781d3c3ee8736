package dev.lethe.influence;

import dev.lethe.LetheInputException;
import dev.lethe.Seeds;
import dev.lethe.data.ExampleSet;
import dev.lethe.math.ConjugateGradient;
import dev.lethe.math.DiagonalOperator;
import dev.lethe.math.EmpiricalFisherOperator;
import dev.lethe.math.LinearOperator;
import dev.lethe.math.Lissa;
import dev.lethe.math.NetworkBytes;
import java.util.Map;
import java.util.function.DoubleSupplier;
import java.util.function.LongFunction;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * (F + damping I)^-1 b with the curvature of {@code identify.linear} (the full empirical Fisher over the curvature
 * sample, matrix-free, or the Fisher diagonal), solved by Jacobi-preconditioned conjugate gradients or LiSSA: the
 * inverse-curvature step shared by {@link LinearInfluence} and {@link PumaInfluence}.
 */
final class CurvatureSolve {
  private static final Logger LOG = LoggerFactory.getLogger(CurvatureSolve.class);

  private CurvatureSolve() {}

  /**
   * The solution s of (F + damping I) s = b at {@code in.model()}; the curvature's and solver's figures go into
   * {@code diag}.
   *
   * @param method names the method in messages
   * @param lissa LiSSA instead of conjugate gradients
   */
  static double[] solve(InfluenceInputs in, double[] b, boolean lissa, String method, Map<String, Object> diag) {
    MultiLayerNetwork model = in.model();
    InfluenceOptions o = in.options();
    diag.put("curvature", o.curvature());
    diag.put("damping", o.damping());
    LinearOperator damped;
    LongFunction<LinearOperator> minibatch;
    DoubleSupplier minibatchBound;
    double[] jacobi;
    if (InfluenceOptions.DIAGONAL.equals(o.curvature())) {
      if (in.fisher() == null) {
        throw LetheInputException.of("%s with diagonal curvature needs the Fisher diagonal (run the fisher stage)",
            method);
      }
      in.fisher().requireMatches(model.numParams(), NetworkBytes.fingerprint(model), "Fisher diagonal");
      DiagonalOperator d = new DiagonalOperator(in.fisher().values(), o.damping());
      DiagonalOperator undamped = new DiagonalOperator(in.fisher().values(), 0);
      damped = d;
      minibatch = seed -> undamped;
      minibatchBound = undamped::largestUndampedEntry;
      jacobi = d.diagonal();
    } else {
      ExampleSet sample = in.curvatureSample();
      if (sample == null || sample.size() == 0) {
        throw LetheInputException.of("%s with full curvature needs a non-empty curvature sample", method);
      }
      EmpiricalFisherOperator f = new EmpiricalFisherOperator(model, sample, o.damping());
      damped = f;
      int k = o.lissaBatchSize();
      minibatch = seed -> f.randomMinibatch(seed, k);
      minibatchBound = f::largestSquaredGradientNorm;
      jacobi = lissa ? null : f.diagonal();
      diag.put("curvatureSampleSize", sample.size());
      diag.put("gradientsPrecomputed", f.precomputed());
    }
    if (lissa) {
      // one LiSSA stream for every method, so that the same right-hand side gets the same solution
      return Lissa.solve(damped, minibatch, minibatchBound, b, o.damping(), o.lissaScale(), o.lissaDepth(),
          o.lissaRepeats(), Seeds.derive(in.seed(), LinearInfluence.LISSA), diag);
    }
    ConjugateGradient.Result r = ConjugateGradient.solve(damped, b, o.cgMaxIterations(), o.cgTolerance(), jacobi);
    diag.put("cgIterations", r.iterations());
    diag.put("relResidual", r.relResidual());
    if (r.relResidual() > o.cgTolerance()) {
      LOG.warn("{}: CG stopped after {} iterations at relative residual {} (target {})", method, r.iterations(),
          r.relResidual(), o.cgTolerance());
    }
    return r.x();
  }
}
