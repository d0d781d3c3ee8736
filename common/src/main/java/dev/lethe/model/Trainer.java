package dev.lethe.model;

import dev.lethe.Seeds;
import dev.lethe.data.ExampleSet;
import dev.lethe.math.backend.BackendSelector;
import dev.lethe.math.backend.ModelBackend;
import dev.lethe.math.backend.Purpose;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Minibatch Adam training with early stopping on a seeded validation split (the paper's protocol). Deterministic
 * for a seed: the split and every epoch's shuffle derive from {@link TrainOptions#seed()}.
 */
public final class Trainer {
  private static final Logger LOG = LoggerFactory.getLogger(Trainer.class);

  private Trainer() {}

  /** Trains {@code net} in place on {@code data} and returns it with the best validation loss restored. */
  public static TrainResult fit(MultiLayerNetwork net, ExampleSet data, TrainOptions o) {
    return fit(net, data, o, null);
  }

  /**
   * Trains {@code net} in place on {@code data}. Without a listener, early stopping on the validation split restores
   * the best epoch's parameters. With one, the listener decides after every epoch, and after every minibatch step
   * within one ({@link EpochListener#afterStep}), whether to go on (at most {@code o.maxEpochs()}), and the network
   * keeps the parameters it had when the listener stopped it.
   */
  public static TrainResult fit(MultiLayerNetwork net, ExampleSet data, TrainOptions o, EpochListener listener) {
    return fit(net, data, o, listener, null);
  }

  /**
   * As {@link #fit(MultiLayerNetwork, ExampleSet, TrainOptions)} (early stopping on the validation split), with
   * {@code observer} shown the network after every epoch (its return value is ignored): how {@code train} keeps
   * the checkpoints of {@link TrainingCheckpoints}.
   */
  public static TrainResult fitObserved(MultiLayerNetwork net, ExampleSet data, TrainOptions o,
      EpochListener observer) {
    return fit(net, data, o, null, observer);
  }

  private static TrainResult fit(MultiLayerNetwork net, ExampleSet data, TrainOptions o, EpochListener listener,
      EpochListener observer) {
    long start = System.nanoTime();
    if (data.size() < 2) {
      throw new IllegalArgumentException("cannot train on " + data.size() + " examples");
    }
    int[][] split = split(data.size(), o.validationFraction(), Seeds.derive(o.seed(), "train.validation"));
    int[] trainRows = split[0];
    int[] valRows = split[1];
    int numClasses = numClasses(net);
    DataType type = net.params().dataType();
    net.setLearningRate(o.learningRate());
    ExampleSet validation = data.select(valRows);

    double[] trainLoss = new double[o.maxEpochs()];
    double[] valLoss = new double[o.maxEpochs()];
    INDArray best = net.params().dup();
    double bestLoss = Double.POSITIVE_INFINITY;
    int bestEpoch = 0;
    int epochs = 0;
    int since = 0;
    // the selected backend takes each step as net.fit would (the CNN fast path: the same update, faster)
    ModelBackend backend = BackendSelector.current().select(net, Purpose.TRAINING);
    for (int epoch = 1; epoch <= o.maxEpochs(); epoch++) {
      long t0 = System.nanoTime();
      int[] order = trainRows.clone();
      shuffle(order, new SplittableRandom(Seeds.derive(o.seed(), "train.shuffle", epoch)));
      double sum = 0;
      int seen = 0;
      int steps = (order.length + o.batchSize() - 1) / o.batchSize();
      boolean stoppedWithinEpoch = false;
      for (int step = 1; step <= steps; step++) {
        int from = (step - 1) * o.batchSize();
        int[] batch = Arrays.copyOfRange(order, from, Math.min(order.length, from + o.batchSize()));
        sum += backend.fitStep(data.select(batch)) * batch.length;
        seen += batch.length;
        if (listener != null && step < steps && !listener.afterStep(epoch, step, steps, net)) {
          stoppedWithinEpoch = true;
          break;
        }
      }
      epochs = epoch;
      trainLoss[epoch - 1] = sum / seen;
      if (stoppedWithinEpoch) {
        bestEpoch = epoch;
        valLoss[epoch - 1] = Double.NaN;
        LOG.info("epoch {}/{}: stopped by the listener after {} of {} rows", epoch, o.maxEpochs(), seen,
            order.length);
        break;
      }
      valLoss[epoch - 1] = valRows.length == 0 ? Double.NaN : meanLoss(net, validation);
      LOG.info("epoch {}/{}: training loss {}, validation loss {}, {} s", epoch, o.maxEpochs(),
          String.format("%.4f", trainLoss[epoch - 1]), String.format("%.4f", valLoss[epoch - 1]),
          String.format("%.1f", (System.nanoTime() - t0) / 1e9));
      if (observer != null) {
        observer.afterEpoch(epoch, net);
      }
      if (listener != null) {
        bestEpoch = epoch;
        if (!listener.afterEpoch(epoch, net)) {
          break;
        }
        continue;
      }
      if (valRows.length == 0) {
        bestEpoch = epoch;
        continue;
      }
      if (valLoss[epoch - 1] < bestLoss) {
        bestLoss = valLoss[epoch - 1];
        bestEpoch = epoch;
        best.assign(net.params());
        since = 0;
      } else if (++since >= o.patience()) {
        LOG.info("early stopping after epoch {}: no better validation loss for {} epochs", epoch, o.patience());
        break;
      }
    }
    if (listener == null && valRows.length > 0) {
      net.setParams(best);
    }
    return new TrainResult(net, epochs, bestEpoch, valRows.length == 0 ? Double.NaN : bestLoss,
        Arrays.copyOf(trainLoss, epochs), Arrays.copyOf(valLoss, epochs), (System.nanoTime() - start) / 1_000_000);
  }

  /**
   * Mean cross-entropy of {@code s} under {@code net} as the training backend measures it
   * ({@link ModelBackend#meanLoss}: on the CNN fast path {@code -mean log p} in double precision, with DL4J its score,
   * which includes regularisation and clips probabilities at 1e-10).
   */
  public static double meanLoss(MultiLayerNetwork net, ExampleSet s) {
    return BackendSelector.current().select(net, Purpose.TRAINING).meanLoss(s);
  }

  /**
   * A seeded split of {@code n} rows into training and validation positions (both ascending);
   * {@code round(fraction * n)} rows are held out, at least one when the fraction is positive.
   */
  public static int[][] split(int n, double fraction, long seed) {
    int nv = fraction <= 0 ? 0 : (int) Math.max(1, Math.min(n - 1, Math.round(fraction * n)));
    int[] order = DataSets.range(0, n);
    shuffle(order, new SplittableRandom(seed));
    int[] val = Arrays.copyOfRange(order, 0, nv);
    int[] train = Arrays.copyOfRange(order, nv, n);
    Arrays.sort(val);
    Arrays.sort(train);
    return new int[][] {train, val};
  }

  static void shuffle(int[] a, SplittableRandom rnd) {
    for (int i = a.length - 1; i > 0; i--) {
      int j = rnd.nextInt(i + 1);
      int t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }

  /** The number of classes of the network's output layer. */
  public static int numClasses(MultiLayerNetwork net) {
    var conf = net.getLayerWiseConfigurations();
    var layer = conf.getConf(conf.getConfs().size() - 1).getLayer();
    if (layer instanceof BaseOutputLayer out) {
      return (int) out.getNOut();
    }
    throw new IllegalArgumentException("the network does not end in an output layer: " + layer);
  }
}
