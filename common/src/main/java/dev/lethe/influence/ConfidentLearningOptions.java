package dev.lethe.influence;

/**
 * Options of {@link ConfidentLearning} ({@code identify.confident-learning.*}).
 *
 * @param folds k of the k-fold cross-validation that gives the out-of-fold probabilities, >= 2
 * @param score the label-quality score the ranking uses
 * @param maxEpochs the epoch cap of each fold's training; 0 = the base model's ({@code train.max-epochs})
 */
public record ConfidentLearningOptions(int folds, LabelQuality.Score score, int maxEpochs) {
  public ConfidentLearningOptions {
    if (folds < 2) {
      throw new IllegalArgumentException("identify.confident-learning.folds must be >= 2, got " + folds);
    }
    if (score == null) {
      throw new IllegalArgumentException("identify.confident-learning.score must be given");
    }
    if (maxEpochs < 0) {
      throw new IllegalArgumentException("identify.confident-learning.max-epochs must be >= 0, got " + maxEpochs);
    }
  }
}
