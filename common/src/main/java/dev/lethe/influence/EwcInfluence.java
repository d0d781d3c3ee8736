package dev.lethe.influence;

import dev.lethe.LetheInputException;
import dev.lethe.data.ExampleSet;
import dev.lethe.math.LogLikelihood;
import dev.lethe.math.NetworkBytes;
import dev.lethe.math.RowLogLikelihoods;
import java.util.LinkedHashMap;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * "ewc-influence" (Tanno et al. 2022, Eq. 10 and Algorithm 1): theta* = the EWC update that LEARNS the failures Fq
 * from theta_hat ({@link EwcUpdate}); the responsibility of a training example z is
 *
 * <pre>  r(z) = log p(z | theta_hat) - log p(z | theta*)</pre>
 *
 * <p>— examples whose likelihood has to drop for the model to fix Fq conflict with the failures (r > 0: culprits).
 * Both log-likelihoods are computed in double precision ({@link NetworkBytes#rebuild(byte[], byte[], DataType)})
 * with a fixed batch shape ({@link LogLikelihood}), so scores do not depend on partitioning beyond double rounding.
 * When the fisher stage recorded log p(z | theta_hat) ({@link InfluenceInputs#baseLogLik}: the same values, from
 * the forward pass of each example's gradient) the scorer looks it up by id and runs one forward pass per example,
 * at theta*, instead of two.
 */
public final class EwcInfluence implements InfluenceMethod {
  public static final String NAME = "ewc-influence";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public PreparedInfluence prepare(InfluenceInputs in) {
    if (in.fisher() == null) {
      throw LetheInputException.of("%s needs the Fisher diagonal of the model (run the fisher stage first)", NAME);
    }
    if (in.query().size() == 0) {
      throw LetheInputException.of("%s: the failure set Fq is empty: nothing to explain", NAME);
    }
    MultiLayerNetwork model = in.model();
    String fingerprint = NetworkBytes.fingerprint(model);
    in.fisher().requireMatches(model.numParams(), fingerprint, "Fisher diagonal");
    RowLogLikelihoods base = in.baseLogLik();
    if (base != null) {
      base.requireMatches(fingerprint, in.trainSize());
    }
    InfluenceOptions o = in.options();
    EwcUpdate.Result r = EwcUpdate.run(model, in.fisher(), in.trainSize(), in.query(), EwcUpdate.Objective.LEARN,
        o.ewc(), dev.lethe.Seeds.derive(in.seed(), NAME));
    MultiLayerNetwork after = r.model();
    ScorerSpec spec = scorer(model, after, base, o.scoreBatchSize());
    Map<String, Object> diag = new LinkedHashMap<>();
    diag.put("method", NAME);
    diag.put("logpBeforeFrom", base != null ? "fisher stage" : "scoring pass");
    diag.put("forwardPassesPerRow", forwardPassesPerRow(base));
    diag.put("epochsRun", r.epochsRun());
    diag.put("bestEpoch", r.bestEpoch());
    diag.put("bestValidationObjective", r.bestValidationObjective());
    diag.put("updateMillis", r.millis());
    diag.put("paramDistance", after.params().reshape(-1).sub(model.params().reshape(-1)).norm2Number().doubleValue());
    // in double from the parameters, as the update's early stopping saw them (FastCnn's forward pass for the CNNs,
    // not DL4J's)
    diag.put("queryMeanLogpBefore", LogLikelihood.meanInDouble(model, in.query(), o.scoreBatchSize()));
    diag.put("queryMeanLogpAfter", LogLikelihood.meanInDouble(after, in.query(), o.scoreBatchSize()));
    return new PreparedInfluence(spec, after, diag);
  }

  /**
   * The scorer of r(z) = log p(z|theta_before) - log p(z|theta_after), for a pair of models of one configuration
   * (theta_hat and the EWC-updated theta*, e.g. as read back from a workdir); scored in double precision.
   */
  public static ScorerSpec scorer(MultiLayerNetwork before, MultiLayerNetwork after, int batchSize) {
    return new Spec(NetworkBytes.configBytes(before), NetworkBytes.paramBytes(before.params()),
        NetworkBytes.paramBytes(after.params()), batchSize);
  }

  /**
   * The scorer of r(z) for theta_hat ({@code before}) and theta* ({@code after}): with log p(z|theta_hat) looked up
   * in the fisher stage's {@code baseLogLik} when there is one, else computed (see {@link #forwardPassesPerRow}).
   */
  public static ScorerSpec scorer(MultiLayerNetwork before, MultiLayerNetwork after, RowLogLikelihoods baseLogLik,
      int batchSize) {
    return baseLogLik != null ? scorer(after, baseLogLik, batchSize) : scorer(before, after, batchSize);
  }

  /** The forward passes per training row of that scorer: 1 with the fisher stage's log-likelihoods, else 2. */
  public static int forwardPassesPerRow(RowLogLikelihoods baseLogLik) {
    return baseLogLik != null ? 1 : 2;
  }

  /**
   * The scorer of r(z) = log p(z|theta_hat) - log p(z|theta_after) with log p(z|theta_hat) looked up in
   * {@code before} (the fisher stage's table for theta_hat: a row it does not hold, or holds for other features or
   * another label, is bad input) and log p(z|theta_after) computed in double precision.
   */
  public static ScorerSpec scorer(MultiLayerNetwork after, RowLogLikelihoods before, int batchSize) {
    return new CachedSpec(NetworkBytes.configBytes(after), NetworkBytes.paramBytes(after.params()), before,
        batchSize);
  }

  private record CachedSpec(byte[] config, byte[] paramsAfter, RowLogLikelihoods before, int batchSize)
      implements ScorerSpec {
    private static final long serialVersionUID = 1L;

    @Override
    public Scorer open() {
      MultiLayerNetwork after = NetworkBytes.rebuild(config, paramsAfter, DataType.DOUBLE);
      return (ExampleSet block) -> {
        double[] la = LogLikelihood.perExample(after, block, batchSize);
        double[] lb = new double[la.length];
        double[] s = new double[la.length];
        for (int i = 0; i < s.length; i++) {
          lb[i] = before.lookup(block, i);
          s[i] = lb[i] - la[i];
        }
        return new ScoredBlock(s, lb, la);
      };
    }
  }

  private record Spec(byte[] config, byte[] paramsBefore, byte[] paramsAfter, int batchSize)
      implements ScorerSpec {
    private static final long serialVersionUID = 1L;

    @Override
    public Scorer open() {
      MultiLayerNetwork before = NetworkBytes.rebuild(config, paramsBefore, DataType.DOUBLE);
      MultiLayerNetwork after = NetworkBytes.rebuild(config, paramsAfter, DataType.DOUBLE);
      return (ExampleSet block) -> {
        double[] lb = LogLikelihood.perExample(before, block, batchSize);
        double[] la = LogLikelihood.perExample(after, block, batchSize);
        double[] s = new double[lb.length];
        for (int i = 0; i < s.length; i++) {
          s[i] = lb[i] - la[i];
        }
        return new ScoredBlock(s, lb, la);
      };
    }
  }
}
