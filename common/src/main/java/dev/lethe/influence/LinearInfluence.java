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
import dev.lethe.math.PerExampleGradients;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.DoubleSupplier;
import java.util.function.LongFunction;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * "linear-cg" and "linear-lissa" (Tanno et al. 2022, Eq. 9): the first-order (influence-function) approximation of
 * EWC-influence,
 *
 * <pre>
 *   s    = (F + damping I)^-1 grad log p(Fq | theta_hat),   grad log p(Fq) = SUM over the failures (as in the paper)
 *   r(z) = -gamma s . grad log p(z | theta_hat)
 * </pre>
 *
 * <p>Linearising Eq. 10 gives theta* - theta_hat ~ (gamma/2) F^-1 grad log p(Fq) and r(z) ~ -grad log p(z) .
 * (theta* - theta_hat), so r > 0 marks culprits, as for EWC-influence. Using the sum rather than the mean over
 * Fq multiplies every score by |Fq|: rankings are the same. F is either the full empirical Fisher over the
 * curvature sample ("full", matrix-free, {@link EmpiricalFisherOperator}) or the Fisher diagonal ("diagonal"). The
 * system is solved with Jacobi-preconditioned conjugate gradients ("linear-cg") or LiSSA ("linear-lissa").
 * Scoring needs one per-example gradient per training example; logpBefore is reported, logpAfter is NaN.
 */
public final class LinearInfluence implements InfluenceMethod {
  private static final Logger LOG = LoggerFactory.getLogger(LinearInfluence.class);
  public static final String CG = "linear-cg";
  public static final String LISSA = "linear-lissa";

  private final boolean useLissa;

  private LinearInfluence(boolean useLissa) {
    this.useLissa = useLissa;
  }

  public static LinearInfluence cg() {
    return new LinearInfluence(false);
  }

  public static LinearInfluence lissa() {
    return new LinearInfluence(true);
  }

  @Override
  public String name() {
    return useLissa ? LISSA : CG;
  }

  @Override
  public PreparedInfluence prepare(InfluenceInputs in) {
    long t0 = System.nanoTime();
    MultiLayerNetwork model = in.model();
    InfluenceOptions o = in.options();
    if (in.query().size() == 0) {
      throw LetheInputException.of("%s: the failure set Fq is empty: nothing to explain", name());
    }
    double[] b = PerExampleGradients.sumArray(model, in.query(), 256);
    Map<String, Object> diag = new LinkedHashMap<>();
    diag.put("method", name());
    diag.put("curvature", o.curvature());
    diag.put("damping", o.damping());
    diag.put("queryGradientNorm", ConjugateGradient.norm(b));

    LinearOperator damped;
    LongFunction<LinearOperator> minibatch;
    DoubleSupplier minibatchBound;
    double[] jacobi;
    if (InfluenceOptions.DIAGONAL.equals(o.curvature())) {
      if (in.fisher() == null) {
        throw LetheInputException.of("%s with diagonal curvature needs the Fisher diagonal (run the fisher stage)",
            name());
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
        throw LetheInputException.of("%s with full curvature needs a non-empty curvature sample", name());
      }
      EmpiricalFisherOperator f = new EmpiricalFisherOperator(model, sample, o.damping());
      damped = f;
      int m = sample.size();
      int k = o.lissaBatchSize();
      minibatch = seed -> f.randomMinibatch(seed, k);
      minibatchBound = f::largestSquaredGradientNorm;
      jacobi = useLissa ? null : f.diagonal();
      diag.put("curvatureSampleSize", m);
      diag.put("gradientsPrecomputed", f.precomputed());
    }

    double[] s;
    if (useLissa) {
      s = Lissa.solve(damped, minibatch, minibatchBound, b, o.damping(), o.lissaScale(), o.lissaDepth(),
          o.lissaRepeats(), Seeds.derive(in.seed(), LISSA), diag);
    } else {
      ConjugateGradient.Result r = ConjugateGradient.solve(damped, b, o.cgMaxIterations(), o.cgTolerance(), jacobi);
      s = r.x();
      diag.put("cgIterations", r.iterations());
      diag.put("relResidual", r.relResidual());
      if (r.relResidual() > o.cgTolerance()) {
        LOG.warn("{}: CG stopped after {} iterations at relative residual {} (target {})", name(), r.iterations(),
            r.relResidual(), o.cgTolerance());
      }
    }
    long millis = (System.nanoTime() - t0) / 1_000_000;
    diag.put("solutionNorm", ConjugateGradient.norm(s));
    diag.put("prepareMillis", millis);
    LOG.info("{}: solved the {} curvature system for {} parameters in {} ms ({})", name(), o.curvature(), s.length,
        millis, diag);
    Spec spec = new Spec(NetworkBytes.configBytes(model), NetworkBytes.paramBytes(model.params()), s,
        o.linearGamma(), o.scoreBatchSize());
    return new PreparedInfluence(spec, null, diag);
  }



  private record Spec(byte[] config, byte[] params, double[] s, double gamma, int batchSize) implements ScorerSpec {
    private static final long serialVersionUID = 1L;

    @Override
    public Scorer open() {
      // double precision, as EwcInfluence: per-example gradients and log-likelihoods of the float model, computed
      // without float32 rounding
      MultiLayerNetwork net = NetworkBytes.rebuild(config, params, DataType.DOUBLE);
      return (ExampleSet block) -> {
        // log p(z | theta_hat) along with the gradients (FastCnn: from their forward pass or its scoring pass)
        double[] lb = new double[block.size()];
        double[] score = new double[block.size()];
        PerExampleGradients.forEach(net, block, lb, batchSize, (row, g) -> {
          double[] v = g.toDoubleVector();
          double dot = 0;
          for (int j = 0; j < v.length; j++) {
            dot += s[j] * v[j];
          }
          score[row] = -gamma * dot;
        });
        return new ScoredBlock(score, lb, ScoredBlock.nan(score.length));
      };
    }
  }
}
