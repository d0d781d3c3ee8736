package dev.lethe.repair;

import dev.lethe.LetheInputException;
import dev.lethe.Seeds;
import dev.lethe.data.ExampleSet;
import dev.lethe.math.ConjugateGradient;
import dev.lethe.math.DiagonalOperator;
import dev.lethe.math.EmpiricalFisherOperator;
import dev.lethe.math.LinearOperator;
import dev.lethe.math.Lissa;
import dev.lethe.math.NetworkBytes;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.DoubleSupplier;
import java.util.function.LongFunction;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * (F + damping I)^-1 v for the Newton-type repairs ({@link NewtonRemoval}, {@link PumaPatching}), with
 * {@code repair.newton-removal}'s curvature and solver: "full" = the empirical Fisher over a seeded sample (without
 * replacement) of D, applied matrix-free ({@link EmpiricalFisherOperator}); "diagonal" = the Fisher diagonal
 * ({@link DiagonalOperator}). Solver: Jacobi-preconditioned CG ({@link ConjugateGradient}) or {@link Lissa}. The
 * operator is built once; every {@link #solve} reuses it. The curvature sample and the LiSSA streams derive from the
 * run's seed under newton-removal's names, so both repairs see the same curvature.
 */
final class InverseCurvature {
  private static final Logger LOG = LoggerFactory.getLogger(InverseCurvature.class);

  private final RepairOptions.Newton options;
  private final LinearOperator damped;
  private final LongFunction<LinearOperator> minibatch;
  private final DoubleSupplier minibatchBound;
  private final double[] jacobi;
  private final long seed;
  private final String method;

  private InverseCurvature(RepairOptions.Newton options, LinearOperator damped,
      LongFunction<LinearOperator> minibatch, DoubleSupplier minibatchBound, double[] jacobi, long seed,
      String method) {
    this.options = options;
    this.damped = damped;
    this.minibatch = minibatch;
    this.minibatchBound = minibatchBound;
    this.jacobi = jacobi;
    this.seed = seed;
    this.method = method;
  }

  /** The curvature of {@code in.model()}; records its kind in {@code d}. */
  static InverseCurvature of(RepairInputs in, String method, Map<String, Object> d) {
    MultiLayerNetwork model = in.model();
    RepairOptions.Newton o = in.options().newton();
    d.put("curvature", o.curvature());
    d.put("damping", o.damping());
    d.put("solver", o.solver());
    if (RepairOptions.Newton.DIAGONAL.equals(o.curvature())) {
      if (in.fisher() == null) {
        throw LetheInputException.of("%s with diagonal curvature needs the Fisher diagonal (run the fisher stage)",
            method);
      }
      in.fisher().requireMatches(model.numParams(), NetworkBytes.fingerprint(model), "Fisher diagonal");
      DiagonalOperator diag = new DiagonalOperator(in.fisher().values(), o.damping());
      DiagonalOperator undamped = new DiagonalOperator(in.fisher().values(), 0);
      return new InverseCurvature(o, diag, s -> undamped, undamped::largestUndampedEntry, diag.diagonal(),
          in.seed(), method);
    }
    ExampleSet sample = sample(in.train(), o.curvatureSamples(),
        Seeds.derive(in.seed(), NewtonRemoval.NAME + ".curvature"));
    EmpiricalFisherOperator f = new EmpiricalFisherOperator(model, sample, o.damping());
    int k = o.lissaBatchSize();
    d.put("curvatureSampleSize", sample.size());
    return new InverseCurvature(o, f, s -> f.randomMinibatch(s, k), f::largestSquaredGradientNorm,
        RepairOptions.Newton.CG.equals(o.solver()) ? f.diagonal() : null, in.seed(), method);
  }

  /**
   * (F + damping I)^-1 {@code v}; the solver's figures go into {@code d} under keys prefixed with {@code prefix}
   * ("" for the first solve of a repair).
   */
  double[] solve(double[] v, Map<String, Object> d, String prefix) {
    if (RepairOptions.Newton.LISSA.equals(options.solver())) {
      return Lissa.solve(damped, minibatch, minibatchBound, v, options.damping(), options.lissaScale(),
          options.lissaDepth(), options.lissaRepeats(), Seeds.derive(seed, NewtonRemoval.NAME + ".lissa" + prefix), d);
    }
    ConjugateGradient.Result r = ConjugateGradient.solve(damped, v, options.cgMaxIterations(), options.cgTolerance(),
        jacobi);
    d.put(prefix + "cgIterations", r.iterations());
    d.put(prefix + "relResidual", r.relResidual());
    if (r.relResidual() > options.cgTolerance()) {
      LOG.warn("{}: CG stopped after {} iterations at relative residual {} (target {})", method, r.iterations(),
          r.relResidual(), options.cgTolerance());
    }
    return r.x();
  }

  /** A seeded sample of {@code m} rows of D without replacement, in training order (m = 0 or >= N: all of D). */
  static ExampleSet sample(ExampleSet train, int m, long seed) {
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
