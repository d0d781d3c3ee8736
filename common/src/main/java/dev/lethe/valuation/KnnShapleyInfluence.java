package dev.lethe.valuation;

import dev.lethe.LetheInputException;
import dev.lethe.config.LetheConfig;
import dev.lethe.influence.InfluenceInputs;
import dev.lethe.influence.PreparedInfluence;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * "knn-shapley": each training example's exact {@link KnnShapley} value for the K-nearest-neighbour accuracy on the
 * failures Fq, in the penultimate-layer embedding of theta_hat ({@link PenultimateFeatures}). A negative value marks
 * an example whose presence makes its neighbours in Fq more likely to be misclassified: a culprit. The culprits
 * table's score is minus the value.
 */
public final class KnnShapleyInfluence implements EmbeddingValuation {
  private static final Logger LOG = LoggerFactory.getLogger(KnnShapleyInfluence.class);
  public static final String NAME = "knn-shapley";
  static final String K_KEY = "identify.knn-shapley.k";

  private final int k;
  private final int threads;
  private final EmbeddingPass pass;

  /**
   * @param k the number of neighbours (>= 1)
   * @param threads driver threads for the values (>= 1)
   */
  public KnnShapleyInfluence(int k, int threads) {
    this(k, threads, null);
  }

  private KnnShapleyInfluence(int k, int threads, EmbeddingPass pass) {
    if (k < 1) {
      throw LetheInputException.of("config key '%s': must be >= 1, got %d", K_KEY, k);
    }
    this.k = k;
    this.threads = Math.max(1, threads);
    this.pass = pass;
  }

  @Override
  public KnnShapleyInfluence withEmbeddingPass(EmbeddingPass p) {
    return new KnnShapleyInfluence(k, threads, p);
  }

  /** With {@code identify.knn-shapley.k} and every available core. */
  public static KnnShapleyInfluence from(LetheConfig c) {
    return new KnnShapleyInfluence(c.getInt(K_KEY), Runtime.getRuntime().availableProcessors());
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
    EmbeddedInputs e = EmbeddedInputs.of(in, NAME, pass);
    TrainingEmbeddings train = e.train();
    double[][] zTrain = e.x();
    long t1 = System.nanoTime();
    double[] values = KnnShapley.values(zTrain, train.labels(), e.q(), in.query().labels(), k, threads);
    long t2 = System.nanoTime();
    double total = 0;
    int negative = 0;
    for (double v : values) {
      total += v;
      negative += v < 0 ? 1 : 0;
    }
    Map<String, Object> diag = new LinkedHashMap<>();
    diag.put("method", NAME);
    diag.put("k", k);
    diag.put("embeddingDimension", zTrain[0].length);
    diag.put("trainRows", train.size());
    diag.put("queryRows", in.query().size());
    diag.put("knnQueryAccuracy", total);
    diag.put("negativeValues", negative);
    diag.put("embeddingMillis", (t1 - t0) / 1_000_000);
    diag.put("valueMillis", (t2 - t1) / 1_000_000);
    LOG.info("{}: values of {} training examples against {} failures (K = {}, {}-dimensional embeddings) in {} ms;"
        + " {} negative", NAME, train.size(), in.query().size(), k, zTrain[0].length, (t2 - t0) / 1_000_000, negative);
    return new PreparedInfluence(new ValueScores(train.ids(), values), null, diag);
  }
}
