package dev.lethe.influence;

import dev.lethe.Seeds;
import dev.lethe.data.ExampleSet;
import dev.lethe.math.LogLikelihood;
import dev.lethe.model.ModelOptions;
import dev.lethe.model.Models;
import dev.lethe.model.TrainOptions;
import dev.lethe.model.Trainer;
import java.io.Serializable;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * k-fold cross-validated predicted probabilities (Northcutt, Jiang, Chuang 2021, Sec. 2: confident learning needs
 * out-of-sample probabilities). Each training example is assigned to one of k folds by a seeded hash of its id
 * (exactly balanced: rank by hash modulo k), so the folds depend on the ids and the seed, never on the row order.
 * Fold f's model has the base model's architecture and training settings and is trained on the other folds; it
 * predicts the rows of fold f. The folds are independent, so an engine may train them in parallel
 * ({@link #trainFold}), then {@link #assemble} puts the rows back in id order.
 */
public final class OutOfFoldTraining {
  private static final Logger LOG = LoggerFactory.getLogger(OutOfFoldTraining.class);

  private OutOfFoldTraining() {}

  /** One fold's predictions: the ids of its rows (ascending) and their class probabilities. */
  public record Fold(int fold, long[] ids, double[][] probs, int epochs) implements Serializable {
    private static final long serialVersionUID = 1L;
  }

  /** The training set in ascending id order (what {@link #trainFold} expects). */
  public static ExampleSet sortedById(ExampleSet s) {
    int[] order = IntStream.range(0, s.size()).boxed().sorted(Comparator.comparingLong(s::id))
        .mapToInt(Integer::intValue).toArray();
    return s.select(order);
  }

  /** The fold of every row of {@code ids}: rows ranked by Seeds.derive(seed, "fold", id) (ties by id), rank mod k. */
  public static int[] foldOf(long[] ids, int k, long seed) {
    if (k < 2 || k > ids.length) {
      throw new IllegalArgumentException("folds must be in [2, " + ids.length + "], got " + k);
    }
    Integer[] order = IntStream.range(0, ids.length).boxed().toArray(Integer[]::new);
    Arrays.sort(order, Comparator.comparingLong((Integer i) -> Seeds.derive(seed, "fold", ids[i]))
        .thenComparingLong(i -> ids[i]));
    int[] fold = new int[ids.length];
    for (int r = 0; r < order.length; r++) {
      fold[order[r]] = r % k;
    }
    return fold;
  }

  /**
   * Trains fold {@code fold}'s model on the rows of the other folds and predicts the fold's rows.
   *
   * @param train the training set in ascending id order
   * @param foldOf {@link #foldOf} of train's ids
   * @param model the base model's architecture
   * @param training the base model's training settings; each fold derives its own seed from their seed
   */
  public static Fold trainFold(ExampleSet train, int[] foldOf, int fold, ModelOptions model, TrainOptions training) {
    long t0 = System.nanoTime();
    int[] in = IntStream.range(0, train.size()).filter(i -> foldOf[i] != fold).toArray();
    int[] out = IntStream.range(0, train.size()).filter(i -> foldOf[i] == fold).toArray();
    TrainOptions o = new TrainOptions(training.learningRate(), training.batchSize(), training.maxEpochs(),
        training.patience(), training.validationFraction(), Seeds.derive(training.seed(), "fold", fold));
    MultiLayerNetwork net = Models.build(model);
    int epochs = Trainer.fit(net, train.select(in), o).epochsRun();
    ExampleSet held = train.select(out);
    double[][] z = LogLikelihood.logitsInDouble(net, held, 256);
    double[][] p = new double[z.length][];
    for (int i = 0; i < z.length; i++) {
      p[i] = softmax(z[i]);
    }
    LOG.info("confident learning: fold {} trained on {} rows ({} epochs), predicted {} rows in {} s", fold,
        in.length, epochs, out.length, String.format("%.1f", (System.nanoTime() - t0) / 1e9));
    return new Fold(fold, held.ids(), p, epochs);
  }

  /** The folds' predictions as one table in {@code train}'s (ascending id) order. */
  public static OutOfFold assemble(ExampleSet train, List<Fold> folds) {
    double[][] probs = new double[train.size()][];
    long[] ids = train.ids();
    for (Fold f : folds) {
      for (int i = 0; i < f.ids().length; i++) {
        int r = Arrays.binarySearch(ids, f.ids()[i]);
        if (r < 0 || probs[r] != null) {
          throw new IllegalStateException("fold " + f.fold() + " predicted id " + f.ids()[i] + " unexpectedly");
        }
        probs[r] = f.probs()[i];
      }
    }
    for (int r = 0; r < probs.length; r++) {
      if (probs[r] == null) {
        throw new IllegalStateException("no fold predicted id " + ids[r]);
      }
    }
    return new OutOfFold(ids.clone(), train.labels().clone(), probs, folds.size());
  }

  static double[] softmax(double[] z) {
    double max = Arrays.stream(z).max().orElse(0);
    double[] p = new double[z.length];
    double sum = 0;
    for (int k = 0; k < z.length; k++) {
      p[k] = Math.exp(z[k] - max);
      sum += p[k];
    }
    for (int k = 0; k < z.length; k++) {
      p[k] /= sum;
    }
    return p;
  }
}
