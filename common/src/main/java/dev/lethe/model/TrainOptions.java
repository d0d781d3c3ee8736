package dev.lethe.model;

/**
 * Adam training with early stopping (paper protocol: learning rate 1e-3, batch 64, patience 5 on a 10% validation
 * split).
 *
 * @param learningRate Adam step size, > 0
 * @param batchSize minibatch size, > 0
 * @param maxEpochs upper bound on epochs, > 0
 * @param patience epochs without a better validation loss before stopping, > 0
 * @param validationFraction share of the training set held out for early stopping, in [0, 0.5]; 0 trains on all
 *     rows for {@code maxEpochs} and keeps the last model
 * @param seed seed of the validation split and the per-epoch shuffles
 */
public record TrainOptions(double learningRate, int batchSize, int maxEpochs, int patience,
    double validationFraction, long seed) implements java.io.Serializable {

  public TrainOptions {
    if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
      throw new IllegalArgumentException("learningRate must be > 0, got " + learningRate);
    }
    if (batchSize <= 0) {
      throw new IllegalArgumentException("batchSize must be > 0, got " + batchSize);
    }
    if (maxEpochs <= 0) {
      throw new IllegalArgumentException("maxEpochs must be > 0, got " + maxEpochs);
    }
    if (patience <= 0) {
      throw new IllegalArgumentException("patience must be > 0, got " + patience);
    }
    if (!(validationFraction >= 0 && validationFraction <= 0.5)) {
      throw new IllegalArgumentException("validationFraction must be in [0, 0.5], got " + validationFraction);
    }
  }

  /** The paper's settings with the given epoch cap and seed. */
  public static TrainOptions paper(int maxEpochs, long seed) {
    return new TrainOptions(1e-3, 64, maxEpochs, 5, 0.1, seed);
  }
}
