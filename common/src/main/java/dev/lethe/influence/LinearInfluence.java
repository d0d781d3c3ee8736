package dev.lethe.influence;

import dev.lethe.LetheInputException;
import dev.lethe.data.ExampleSet;
import dev.lethe.math.ConjugateGradient;
import dev.lethe.math.NetworkBytes;
import dev.lethe.math.PerExampleGradients;
import java.util.LinkedHashMap;
import java.util.Map;
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
    diag.put("queryGradientNorm", ConjugateGradient.norm(b));
    double[] s = CurvatureSolve.solve(in, b, useLissa, name(), diag);
    long millis = (System.nanoTime() - t0) / 1_000_000;
    diag.put("solutionNorm", ConjugateGradient.norm(s));
    diag.put("prepareMillis", millis);
    LOG.info("{}: solved the {} curvature system for {} parameters in {} ms ({})", name(), o.curvature(), s.length,
        millis, diag);
    return new PreparedInfluence(spec(model, s, o.linearGamma(), o.scoreBatchSize()), null, diag);
  }

  /** The scorer of r(z) = -gamma s . grad log p(z | theta_hat) at {@code model}. */
  static ScorerSpec spec(MultiLayerNetwork model, double[] s, double gamma, int batchSize) {
    return new Spec(NetworkBytes.configBytes(model), NetworkBytes.paramBytes(model.params()), s, gamma, batchSize);
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
