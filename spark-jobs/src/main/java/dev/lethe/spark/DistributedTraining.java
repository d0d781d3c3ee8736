package dev.lethe.spark;

import dev.lethe.Seeds;
import dev.lethe.data.ExampleSet;
import dev.lethe.model.DataSets;
import dev.lethe.model.EpochListener;
import dev.lethe.model.TrainOptions;
import dev.lethe.model.TrainResult;
import dev.lethe.model.Trainer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.api.java.JavaRDD;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Training across executors with dl4j-spark's synchronous parameter averaging ({@code train.distributed = true}):
 * each worker fits {@code averagingFrequency} minibatches of {@code batchSize} between averagings. Early stopping
 * is the driver's, on the same seeded validation split as {@link Trainer}.
 */
final class DistributedTraining {
  private static final Logger LOG = LoggerFactory.getLogger(DistributedTraining.class);

  private DistributedTraining() {}

  static TrainResult fit(JobContext ctx, MultiLayerNetwork net, ExampleSet data, TrainOptions o,
      int averagingFrequency) {
    return fit(ctx, net, data, o, averagingFrequency, null);
  }

  /**
   * As {@link #fit(JobContext, MultiLayerNetwork, ExampleSet, TrainOptions, int)}; with a listener, the listener
   * decides after every epoch whether to go on (instead of early stopping) and the last epoch's parameters are kept,
   * as in {@link Trainer#fit(MultiLayerNetwork, ExampleSet, TrainOptions, EpochListener)}.
   */
  static TrainResult fit(JobContext ctx, MultiLayerNetwork net, ExampleSet data, TrainOptions o,
      int averagingFrequency, EpochListener listener) {
    long start = System.nanoTime();
    int[][] split = Trainer.split(data.size(), o.validationFraction(), Seeds.derive(o.seed(), "train.validation"));
    int numClasses = Trainer.numClasses(net);
    DataType type = net.params().dataType();
    ExampleSet validation = data.select(split[1]);
    net.setLearningRate(o.learningRate());
    int partitions = Math.max(1, ctx.spark().sparkContext().defaultParallelism());
    ParameterAveragingTrainingMaster tm = new ParameterAveragingTrainingMaster.Builder(1)
        .batchSizePerWorker(o.batchSize())
        .averagingFrequency(averagingFrequency)
        .workerPrefetchNumBatches(0)
        .rngSeed(Seeds.derive(o.seed(), "train.distributed"))
        .build();
    // dl4j-spark mutates the network it is given: hand it a clone.
    SparkDl4jMultiLayer sparkNet = new SparkDl4jMultiLayer(ctx.jsc(), net.clone(), tm);

    double[] trainLoss = new double[o.maxEpochs()];
    double[] valLoss = new double[o.maxEpochs()];
    INDArray best = null;
    double bestLoss = Double.POSITIVE_INFINITY;
    int bestEpoch = 0;
    int epochs = 0;
    int since = 0;
    for (int epoch = 1; epoch <= o.maxEpochs(); epoch++) {
      int[] order = split[0].clone();
      SplittableRandom rnd = new SplittableRandom(Seeds.derive(o.seed(), "train.shuffle", epoch));
      for (int i = order.length - 1; i > 0; i--) {
        int j = rnd.nextInt(i + 1);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
      List<DataSet> rows = new ArrayList<>(order.length);
      for (int r : order) {
        rows.add(DataSets.dataSet(data, new int[] {r}, numClasses, type));
      }
      JavaRDD<DataSet> rdd = ctx.jsc().parallelize(rows, partitions);
      ctx.describe("distributed training, epoch " + epoch);
      sparkNet.fit(rdd);
      MultiLayerNetwork current = sparkNet.getNetwork();
      epochs = epoch;
      trainLoss[epoch - 1] = sparkNet.getScore();
      valLoss[epoch - 1] = split[1].length == 0 ? Double.NaN
          : Trainer.meanLoss(current, validation);
      LOG.info("distributed epoch {}/{}: validation loss {}", epoch, o.maxEpochs(),
          String.format("%.4f", valLoss[epoch - 1]));
      if (listener != null) {
        bestEpoch = epoch;
        best = current.params().dup();
        if (!listener.afterEpoch(epoch, current)) {
          break;
        }
        continue;
      }
      if (split[1].length == 0 || valLoss[epoch - 1] < bestLoss) {
        bestLoss = valLoss[epoch - 1];
        bestEpoch = epoch;
        best = current.params().dup();
        since = 0;
      } else if (++since >= o.patience()) {
        break;
      }
    }
    net.setParams(best);
    return new TrainResult(net, epochs, bestEpoch, split[1].length == 0 ? Double.NaN : bestLoss,
        Arrays.copyOf(trainLoss, epochs), Arrays.copyOf(valLoss, epochs), (System.nanoTime() - start) / 1_000_000);
  }
}
