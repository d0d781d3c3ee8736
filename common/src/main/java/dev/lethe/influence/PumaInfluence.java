package dev.lethe.influence;

import dev.lethe.LetheInputException;
import dev.lethe.math.ConjugateGradient;
import java.util.LinkedHashMap;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * "puma": PUMA's data value for a chosen performance metric C (model patching by data valuation; the
 * influence-function value of Koh and Liang 2017, Eq. 2, applied to a metric instead of a test loss):
 *
 * <pre>
 *   psi(z) = grad C(theta_hat)^T (F + damping I)^-1 grad L(z, theta_hat),   L(z) = -log p(y | x)
 * </pre>
 *
 * Up-weighting z by epsilon moves theta by -epsilon H^-1 grad L(z) and changes C by -epsilon psi(z); C is a
 * performance (higher = better), so psi(z) > 0 marks an example whose weight costs the metric: larger = more
 * harmful, as for the other methods. H is the damped empirical Fisher (or its diagonal) of {@code identify.linear},
 * solved with CG or LiSSA. C is one of {@link PumaMetric}'s metrics. With C = mean log p(Fq) (query-loss),
 * psi(z) = r(z) / (gamma |Fq|), where r is linear influence's score (Eq. 9).
 */
public final class PumaInfluence implements InfluenceMethod {
  private static final Logger LOG = LoggerFactory.getLogger(PumaInfluence.class);
  public static final String NAME = "puma";

  private final PumaOptions options;

  public PumaInfluence(PumaOptions options) {
    this.options = options;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public boolean needsBenchmark() {
    return !PumaOptions.QUERY_LOSS.equals(options.metric());
  }

  @Override
  public PreparedInfluence prepare(InfluenceInputs in) {
    long t0 = System.nanoTime();
    MultiLayerNetwork model = in.model();
    if (in.query().size() == 0) {
      throw LetheInputException.of("%s: the failure set Fq is empty: nothing to explain", NAME);
    }
    PumaMetric metric = PumaMetric.of(options, model, in.query(), in.benchmark());
    double[] b = metric.gradient(model);
    Map<String, Object> diag = new LinkedHashMap<>();
    diag.put("method", NAME);
    diag.put("metric", options.metricName());
    diag.put("metricRows", metric.rows().size());
    diag.put("metricValue", metric.value());
    diag.put("metricGradientNorm", ConjugateGradient.norm(b));
    diag.put("solver", options.solver());
    double[] s = CurvatureSolve.solve(in, b, PumaOptions.LISSA.equals(options.solver()), NAME, diag);
    long millis = (System.nanoTime() - t0) / 1_000_000;
    diag.put("solutionNorm", ConjugateGradient.norm(s));
    diag.put("prepareMillis", millis);
    LOG.info("{}: metric {} = {} over {} rows; solved the {} curvature system in {} ms ({})", NAME,
        options.metricName(), metric.value(), metric.rows().size(), in.options().curvature(), millis, diag);
    // psi(z) = s . grad L(z) = -s . grad log p(z): the linear scorer with gamma = 1
    return new PreparedInfluence(LinearInfluence.spec(model, s, 1.0, in.options().scoreBatchSize()), null, diag);
  }
}
