package dev.lethe.influence;

import dev.lethe.LetheInputException;
import dev.lethe.config.LetheConfig;
import dev.lethe.config.Options;
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
 *
 * <p>With {@value #NORMALIZE_KEY} = cosine ({@link GradientNormalization#COSINE}), r(z) = -gamma cos(s, grad log
 * p(z | theta_hat)): the training example's gradient is divided by its norm, the renormalised influence of Hammoudeh
 * and Lowd ("Identifying a training-set attack's target using renormalized influence estimation", CCS 2022); dividing
 * by ||s|| as well only rescales every score by one constant. PUMA's scorer ({@link #spec}) is not normalised.
 */
public final class LinearInfluence implements InfluenceMethod {
  private static final Logger LOG = LoggerFactory.getLogger(LinearInfluence.class);
  public static final String CG = "linear-cg";
  public static final String LISSA = "linear-lissa";
  /** Config key: how linear-cg and linear-lissa compare the training gradient with s. */
  public static final String NORMALIZE_KEY = "identify.linear.normalize";

  private final boolean useLissa;
  private final GradientNormalization normalize;

  private LinearInfluence(boolean useLissa, GradientNormalization normalize) {
    if (normalize == null) {
      throw new IllegalArgumentException("normalize must be given");
    }
    this.useLissa = useLissa;
    this.normalize = normalize;
  }

  public static LinearInfluence cg() {
    return new LinearInfluence(false, GradientNormalization.NONE);
  }

  public static LinearInfluence lissa() {
    return new LinearInfluence(true, GradientNormalization.NONE);
  }

  /**
   * linear-lissa ({@code lissa}) or linear-cg with {@value #NORMALIZE_KEY} from {@code c}.
   *
   * @throws LetheInputException for a bad value, naming the key
   */
  public static LinearInfluence of(boolean lissa, LetheConfig c) {
    return new LinearInfluence(lissa, Options.valid(() -> GradientNormalization.parse(NORMALIZE_KEY,
        c.getString(NORMALIZE_KEY))));
  }

  /** How the training gradient is compared with s. */
  public GradientNormalization normalize() {
    return normalize;
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
    diag.put("normalize", normalize.key());
    diag.put("queryGradientNorm", ConjugateGradient.norm(b));
    double[] s = CurvatureSolve.solve(in, b, useLissa, name(), diag);
    long millis = (System.nanoTime() - t0) / 1_000_000;
    diag.put("solutionNorm", ConjugateGradient.norm(s));
    diag.put("prepareMillis", millis);
    LOG.info("{}: solved the {} curvature system for {} parameters in {} ms ({})", name(), o.curvature(), s.length,
        millis, diag);
    return new PreparedInfluence(new Spec(NetworkBytes.configBytes(model), NetworkBytes.paramBytes(model.params()), s,
        o.linearGamma(), normalize, o.scoreBatchSize()), null, diag);
  }

  /** The scorer of r(z) = -gamma s . grad log p(z | theta_hat) at {@code model}. */
  static ScorerSpec spec(MultiLayerNetwork model, double[] s, double gamma, int batchSize) {
    return new Spec(NetworkBytes.configBytes(model), NetworkBytes.paramBytes(model.params()), s, gamma,
        GradientNormalization.NONE, batchSize);
  }

  private record Spec(byte[] config, byte[] params, double[] s, double gamma, GradientNormalization normalize,
      int batchSize) implements ScorerSpec {
    private static final long serialVersionUID = 1L;

    @Override
    public Scorer open() {
      // double precision, as EwcInfluence: per-example gradients and log-likelihoods of the float model, computed
      // without float32 rounding
      MultiLayerNetwork net = NetworkBytes.rebuild(config, params, DataType.DOUBLE);
      double sNorm = ConjugateGradient.norm(s);
      return (ExampleSet block) -> {
        // log p(z | theta_hat) along with the gradients (FastCnn: from their forward pass or its scoring pass)
        double[] lb = new double[block.size()];
        double[] score = new double[block.size()];
        if (normalize == GradientNormalization.NONE) {
          // the dot products alone: the fast path computes them without forming the gradients
          double[] d = PerExampleGradients.dots(net, block, s, lb, batchSize);
          for (int row = 0; row < d.length; row++) {
            score[row] = -gamma * d[row];
          }
          return new ScoredBlock(score, lb, ScoredBlock.nan(score.length));
        }
        PerExampleGradients.forEach(net, block, lb, batchSize, (row, g) -> {
          double[] v = g.toDoubleVector();
          double dot = 0;
          double vv = 0;
          for (int j = 0; j < v.length; j++) {
            dot += s[j] * v[j];
            vv += v[j] * v[j];
          }
          score[row] = -gamma * normalize.apply(dot, vv, sNorm);
        });
        return new ScoredBlock(score, lb, ScoredBlock.nan(score.length));
      };
    }
  }
}
