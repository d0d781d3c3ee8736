package dev.lethe.influence;

import dev.lethe.data.ExampleSet;
import dev.lethe.math.DiagonalFisher;
import dev.lethe.math.RowLogLikelihoods;
import dev.lethe.model.TrainingCheckpoints;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * What a method needs to prepare its scorer.
 *
 * @param model theta_hat, the trained model (not modified)
 * @param fisher the Fisher diagonal at theta_hat (needed by ewc-influence and by diagonal curvature; may be null
 *     for other methods)
 * @param query Fq, the failures to explain
 * @param curvatureSample the training rows over which "full" curvature is estimated (may be null otherwise)
 * @param trainSize N, the number of training examples
 * @param options method options
 * @param seed the run's seed (methods derive their own streams from it)
 * @param baseLogLik log p(z | theta_hat) of every training example as the fisher stage computed it (for the model's
 *     fingerprint; may be null: ewc-influence then computes it in its scoring pass)
 * @param checkpoints the training checkpoints (tracin and self-influence; may be null otherwise)
 * @param outOfFold out-of-fold predicted probabilities of every training example (confident-learning; may be null
 *     otherwise)
 * @param benchmark the benchmark cases B (given to methods whose {@link InfluenceMethod#needsBenchmark} is true; may
 *     be null otherwise)
 * @param train the whole training set D (given to methods whose {@link InfluenceMethod#needsTrainingSet} is true;
 *     may be null otherwise)
 * @param rankings the rankings of other methods, as earlier identify runs wrote them (ensemble; may be null
 *     otherwise)
 */
public record InfluenceInputs(MultiLayerNetwork model, DiagonalFisher fisher, ExampleSet query,
    ExampleSet curvatureSample, long trainSize, InfluenceOptions options, long seed, RowLogLikelihoods baseLogLik,
    TrainingCheckpoints checkpoints, OutOfFold outOfFold, ExampleSet benchmark, ExampleSet train,
    java.util.List<Ranking> rankings) {

  /** Inputs without the rankings of other methods. */
  public InfluenceInputs(MultiLayerNetwork model, DiagonalFisher fisher, ExampleSet query,
      ExampleSet curvatureSample, long trainSize, InfluenceOptions options, long seed, RowLogLikelihoods baseLogLik,
      TrainingCheckpoints checkpoints, OutOfFold outOfFold, ExampleSet benchmark, ExampleSet train) {
    this(model, fisher, query, curvatureSample, trainSize, options, seed, baseLogLik, checkpoints, outOfFold,
        benchmark, train, null);
  }

  /** Inputs without the fisher stage's log-likelihoods. */
  public InfluenceInputs(MultiLayerNetwork model, DiagonalFisher fisher, ExampleSet query,
      ExampleSet curvatureSample, long trainSize, InfluenceOptions options, long seed) {
    this(model, fisher, query, curvatureSample, trainSize, options, seed, null);
  }

  /** Inputs without checkpoints, out-of-fold probabilities, B and the whole training set. */
  public InfluenceInputs(MultiLayerNetwork model, DiagonalFisher fisher, ExampleSet query,
      ExampleSet curvatureSample, long trainSize, InfluenceOptions options, long seed, RowLogLikelihoods baseLogLik) {
    this(model, fisher, query, curvatureSample, trainSize, options, seed, baseLogLik, null, null, null, null);
  }

  public InfluenceInputs {
    if (model == null || query == null || options == null) {
      throw new IllegalArgumentException("model, query and options must be given");
    }
    if (trainSize < 1) {
      throw new IllegalArgumentException("trainSize must be >= 1, got " + trainSize);
    }
  }

  /** These inputs with the training checkpoints. */
  public InfluenceInputs withCheckpoints(TrainingCheckpoints c) {
    return new InfluenceInputs(model, fisher, query, curvatureSample, trainSize, options, seed, baseLogLik, c,
        outOfFold, benchmark, train, rankings);
  }

  /** These inputs with the out-of-fold probabilities. */
  public InfluenceInputs withOutOfFold(OutOfFold o) {
    return new InfluenceInputs(model, fisher, query, curvatureSample, trainSize, options, seed, baseLogLik,
        checkpoints, o, benchmark, train, rankings);
  }

  /** These inputs with the benchmark cases B. */
  public InfluenceInputs withBenchmark(ExampleSet b) {
    return new InfluenceInputs(model, fisher, query, curvatureSample, trainSize, options, seed, baseLogLik,
        checkpoints, outOfFold, b, train, rankings);
  }

  /** These inputs with the whole training set D. */
  public InfluenceInputs withTrain(ExampleSet d) {
    return new InfluenceInputs(model, fisher, query, curvatureSample, trainSize, options, seed, baseLogLik,
        checkpoints, outOfFold, benchmark, d, rankings);
  }

  /** These inputs with the rankings of other methods. */
  public InfluenceInputs withRankings(java.util.List<Ranking> r) {
    return new InfluenceInputs(model, fisher, query, curvatureSample, trainSize, options, seed, baseLogLik,
        checkpoints, outOfFold, benchmark, train, r == null ? null : java.util.List.copyOf(r));
  }
}
