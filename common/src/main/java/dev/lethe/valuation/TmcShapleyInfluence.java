package dev.lethe.valuation;

import dev.lethe.Seeds;
import dev.lethe.config.LetheConfig;
import dev.lethe.influence.InfluenceInputs;
import dev.lethe.influence.PreparedInfluence;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * "tmc-shapley": each training example's {@link TmcShapley} value for the accuracy or log-likelihood on the failures
 * Fq of the final layer retrained on frozen penultimate-layer features ({@link ShapleyGame}). A negative value marks a
 * culprit; the ranking table's score is minus the value. The permutations run where the {@link PermutationRunner}
 * puts them (local threads by default; Spark tasks in the identify stage); the diagnostics record how many ran, the
 * convergence error and the largest standard error.
 */
public final class TmcShapleyInfluence implements EmbeddingValuation {
  private static final Logger LOG = LoggerFactory.getLogger(TmcShapleyInfluence.class);
  public static final String NAME = "tmc-shapley";

  private final TmcShapleyOptions options;
  private final PermutationRunner runner;
  private final EmbeddingPass pass;

  public TmcShapleyInfluence(TmcShapleyOptions options, PermutationRunner runner) {
    this(options, runner, null);
  }

  private TmcShapleyInfluence(TmcShapleyOptions options, PermutationRunner runner, EmbeddingPass pass) {
    this.options = options;
    this.runner = runner;
    this.pass = pass;
  }

  /** With {@code identify.tmc-shapley.*}, on local threads (every available core). */
  public static TmcShapleyInfluence from(LetheConfig c) {
    return new TmcShapleyInfluence(TmcShapleyOptions.from(c),
        PermutationRunner.local(Runtime.getRuntime().availableProcessors()));
  }

  /** This method with its permutations run by {@code r}. */
  public TmcShapleyInfluence withRunner(PermutationRunner r) {
    return new TmcShapleyInfluence(options, r, pass);
  }

  @Override
  public TmcShapleyInfluence withEmbeddingPass(EmbeddingPass p) {
    return new TmcShapleyInfluence(options, runner, p);
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public boolean needsTrainingSet() {
    return pass == null;
  }

  @Override
  public PreparedInfluence prepare(InfluenceInputs in) {
    long t0 = System.nanoTime();
    EmbeddedInputs emb = EmbeddedInputs.of(in, NAME, pass);
    TrainingEmbeddings train = emb.train();
    Standardisation scale = Standardisation.of(emb.x());
    double[][] x = scale.apply(emb.x());
    double[][] q = scale.apply(emb.q());
    int k = emb.numClasses();
    long tFit = System.nanoTime();
    ShapleyGame game = ShapleyGame.of(x, train.labels(), q, in.query().labels(), k,
        TmcShapleyOptions.LOG_LIKELIHOOD.equals(options.utility()), options.l2(), options.fitTolerance(),
        options.fitMaxIterations(), options.truncationTolerance(), options.truncationPatience(),
        Seeds.derive(in.seed(), NAME));
    long t1 = System.nanoTime();
    TmcShapley.Estimate e = TmcShapley.estimate(game, runner, options.maxPermutations(), options.checkEvery(),
        options.convergenceTolerance());
    long t2 = System.nanoTime();
    int negative = 0;
    for (double v : e.values()) {
      negative += v < 0 ? 1 : 0;
    }
    Map<String, Object> diag = new LinkedHashMap<>();
    diag.put("method", NAME);
    diag.put("utility", options.utility());
    diag.put("fullUtility", game.fullUtility());
    diag.put("emptyUtility", game.utility(new double[SoftmaxHead.size(x[0].length, k)]));
    diag.put("permutations", e.permutations());
    diag.put("convergenceError", e.convergenceError());
    diag.put("converged", e.convergenceError() < options.convergenceTolerance());
    diag.put("maxStandardError", e.maxStandardError());
    diag.put("truncatedShare", e.truncatedShare());
    diag.put("permutationsPerSecond", e.permutations() / Math.max((t2 - t1) / 1e9, 1e-9));
    diag.put("fullFitMillis", (t1 - tFit) / 1_000_000);
    diag.put("rankingStablePermutations", e.rankingStable().map(TmcShapley.Round::permutations).orElse(null));
    diag.put("rankingStableSeconds", e.rankingStable().map(TmcShapley.Round::seconds).orElse(null));
    diag.put("rounds", e.rounds().stream().map(TmcShapleyInfluence::round).toList());
    diag.put("negativeValues", negative);
    diag.put("trainRows", train.size());
    diag.put("queryRows", in.query().size());
    diag.put("embeddingDimension", x[0].length);
    diag.put("prepareMillis", (t2 - t0) / 1_000_000);
    LOG.info("{}: {} permutations, convergence error {}, {} negative values ({})", NAME, e.permutations(),
        e.convergenceError(), negative, diag);
    return new PreparedInfluence(new ValueScores(train.ids(), e.values()), null, diag);
  }

  /** A round for the provenance (NaN, as in the first round, written as null). */
  private static Map<String, Object> round(TmcShapley.Round r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("permutations", r.permutations());
    m.put("seconds", r.seconds());
    m.put("convergenceError", Double.isFinite(r.convergenceError()) ? r.convergenceError() : null);
    m.put("spearman", Double.isFinite(r.spearman()) ? r.spearman() : null);
    return m;
  }
}
