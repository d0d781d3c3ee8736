package dev.lethe.influence;

import java.io.Serializable;
import java.util.Arrays;

/**
 * Out-of-fold predicted probabilities of every training example: p_oof(. | x) from a model trained on the other
 * folds, the input of confident learning ({@link ConfidentLearning}). Rows in ascending id order.
 *
 * @param ids training ids, strictly ascending
 * @param labels the given (possibly noisy) label of each row
 * @param probs the predicted class probabilities of each row, each of length numClasses
 * @param folds the number of folds k
 */
public record OutOfFold(long[] ids, int[] labels, double[][] probs, int folds) implements Serializable {
  private static final long serialVersionUID = 1L;

  public OutOfFold {
    if (ids.length != labels.length || ids.length != probs.length) {
      throw new IllegalArgumentException("ids, labels and probabilities differ in length");
    }
    for (int i = 1; i < ids.length; i++) {
      if (ids[i] <= ids[i - 1]) {
        throw new IllegalArgumentException("ids must be strictly ascending (at row " + i + ")");
      }
    }
  }

  public int size() {
    return ids.length;
  }

  public int numClasses() {
    return probs.length == 0 ? 0 : probs[0].length;
  }

  /** The row of {@code id}, or -1. */
  public int row(long id) {
    int r = Arrays.binarySearch(ids, id);
    return r >= 0 ? r : -1;
  }
}
