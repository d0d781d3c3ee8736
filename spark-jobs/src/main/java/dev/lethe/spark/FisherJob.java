package dev.lethe.spark;

import dev.lethe.config.LetheConfig;
import dev.lethe.data.ExampleSet;
import dev.lethe.math.DiagonalFisher;
import dev.lethe.math.EmpiricalFisher;
import dev.lethe.math.NetworkBytes;
import dev.lethe.math.PerExampleGradients;
import dev.lethe.math.RowLogLikelihoods;
import dev.lethe.spark.exec.ModelBytes;
import dev.lethe.spark.exec.RowProgress;
import dev.lethe.spark.exec.TaskThreads;
import dev.lethe.spark.io.ExampleTables;
import dev.lethe.spark.io.ModelFiles;
import dev.lethe.spark.io.Workdir;
import dev.lethe.spark.io.WorkdirLayout;
import java.io.Serializable;
import java.util.Iterator;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.util.LongAccumulator;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stage {@code fisher}: the diagonal of the empirical Fisher at theta_hat over the training set (Tanno et al. 2022,
 * Eq. 10), F_j = (1/N) sum_i (d/d theta_j log p(y_i | x_i, theta_hat))^2 with the observed labels y_i.
 *
 * <p>The model travels to the executors as bytes (broadcast); each partition streams its rows in blocks, runs one
 * backward pass per row and accumulates the squared gradients in an {@link EmpiricalFisher}; the per-partition
 * accumulators are merged with {@code treeReduce}. {@link EmpiricalFisher#toDiagonal} makes the published values
 * independent of the partitioning. Output: fisher/diag.bin ({@link DiagonalFisher} bytes, carrying the base
 * model's fingerprint) and its provenance; for the networks {@link dev.lethe.math.cnn.FastCnn} supports, also
 * fisher/logp.bin ({@link RowLogLikelihoods}: log p(z | theta_hat) of every training example in double precision,
 * from the forward pass each gradient already runs, so at no extra pass), which ewc-influence's scoring then
 * looks up instead of running a second forward pass per example.
 */
public final class FisherJob implements StageJob {
  private static final Logger LOG = LoggerFactory.getLogger(FisherJob.class);
  /** Rows per block streamed from a partition. */
  static final int BLOCK_ROWS = 256;

  public static void main(String[] args) {
    StageRunner.main(Stage.FISHER, args);
  }

  @Override
  public List<Input> inputs(LetheConfig c) {
    return StageJob.withBaseModel(c, new Input(WorkdirLayout.TRAIN, "prepare"));
  }

  @Override
  public List<String> outputs(LetheConfig c) {
    return List.of(WorkdirLayout.FISHER_DIAG, WorkdirLayout.FISHER_LOGP);
  }

  @Override
  public void validate(LetheConfig c, Configuration hadoop) {
    c.positiveInt("data.num-classes");
    c.nonNegativeInt("fisher.partitions");
    c.nonNegativeInt("spark.nd4j-task-threads");
  }

  @Override
  public void run(JobContext ctx) {
    Workdir wd = ctx.workdir();
    ModelFiles.Base base = ModelFiles.base(wd, ctx.config());
    MultiLayerNetwork net = base.net();
    int numClasses = ctx.config().positiveInt("data.num-classes");
    int partitions = ctx.partitions("fisher.partitions");
    int threads = ctx.config().nonNegativeInt("spark.nd4j-task-threads");
    int numFeatures = ModelFiles.numInputs(net);
    int numParams = Math.toIntExact(net.numParams());
    String fingerprint = NetworkBytes.fingerprint(net);
    String source = wd.path(WorkdirLayout.TRAIN).toString();
    try {
      PerExampleGradients.requireInferenceEquivalent(net);
    } catch (IllegalArgumentException e) {
      throw new dev.lethe.LetheInputException(base.path() + ": " + e.getMessage(), e);
    }

    long t0 = System.nanoTime();
    ExampleTables.Table table = ExampleTables.readTable(ctx.spark(), source, ExampleTables.DATA, WorkdirLayout.TRAIN);
    Dataset<Row> train = table.rows();
    long n = table.count();
    if (n == 0) {
      throw dev.lethe.LetheInputException.of("%s: the training table is empty", source);
    }
    Broadcast<ModelBytes> model = ctx.jsc().broadcast(ModelBytes.of(net));
    TaskThreads.Setting driverThreads = TaskThreads.current();
    Part total;
    ctx.describe("empirical Fisher diagonal over " + n + " rows, " + partitions + " partitions");
    try (RowProgress progress = new RowProgress(ctx.jsc(), "fisher", n, 15)) {
      LongAccumulator done = progress.rows();
      JavaRDD<Part> perPartition = ExampleTables.inPartitions(train, partitions).mapPartitions(
          rows -> List.of(accumulate(rows, model.value(), numParams, numFeatures, numClasses, threads, source,
              done)).iterator());
      total = perPartition.treeReduce(Part::merge);
    } finally {
      TaskThreads.restore(driverThreads);
      model.destroy();
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    DiagonalFisher diag = total.fisher().toDiagonal(fingerprint);
    RowLogLikelihoods logp = total.logLik() == null ? null
        : total.logLik().build(fingerprint, wd.path(WorkdirLayout.FISHER_LOGP).toString());
    if (logp != null && logp.size() != n) {
      throw new IllegalStateException("Fisher recorded " + logp.size() + " log-likelihoods for " + n + " rows");
    }
    if (diag.count() != n) {
      throw new IllegalStateException("Fisher accumulated " + diag.count() + " gradients for " + n + " rows");
    }
    double[] v = diag.values();
    double sum = 0;
    double max = 0;
    int nonFinite = 0;
    for (double x : v) {
      if (!Double.isFinite(x)) {
        nonFinite++;
      }
      sum += x;
      max = Math.max(max, x);
    }
    if (nonFinite > 0) {
      throw new IllegalStateException("Fisher diagonal has " + nonFinite + " non-finite values");
    }
    double mean = sum / v.length;

    try (Workdir.Staging out = wd.stage("fisher")) {
      out.writeBytes(WorkdirLayout.FISHER_DIAG, diag.toBytes());
      String prov = ctx.provenance("fisher").input(wd, WorkdirLayout.TRAIN)
          .input(wd, base.path(), fingerprint)
          .put("model_fingerprint", fingerprint).put("examples", n).put("num_params", numParams)
          .put("partitions", partitions).put("nd4j_task_threads", threads).put("seconds", seconds)
          .put("diagonal_mean", mean).put("diagonal_max", max).put("log_likelihoods", logp != null).toJson();
      out.writeProvenance(WorkdirLayout.FISHER_DIAG, prov);
      if (logp != null) {
        out.writeBytes(WorkdirLayout.FISHER_LOGP, logp.toBytes());
        out.writeProvenance(WorkdirLayout.FISHER_LOGP, prov);
      } else {
        // an earlier run's table (e.g. of another architecture) must not outlive this run's Fisher
        out.remove(WorkdirLayout.FISHER_LOGP);
        out.remove(WorkdirLayout.FISHER_LOGP + Workdir.PROVENANCE_SUFFIX);
      }
      out.commit();
    }
    LOG.info("Fisher diagonal of {} parameters over {} examples in {} s", numParams, n, String.format("%.1f",
        seconds));
    ctx.console().line("fisher: %d examples, %d parameters, %d partitions, %.1f s (%.1f examples/s); diagonal"
        + " mean %.3e, max %.3e -> %s", n, numParams, partitions, seconds, n / seconds, mean, max, wd.path(WorkdirLayout.FISHER_DIAG));
  }

  /**
   * One partition's (or, merged, the whole table's) squared per-example gradients, and the log-likelihoods of its
   * rows (null when the network's are not recorded).
   */
  record Part(EmpiricalFisher fisher, RowLogLikelihoods.Builder logLik) implements Serializable {
    private static final long serialVersionUID = 1L;

    Part merge(Part o) {
      RowLogLikelihoods.Builder l = logLik == null || o.logLik == null ? null : logLik.merge(o.logLik);
      return new Part(fisher.merge(o.fisher), l);
    }
  }

  /** One partition's squared per-example gradients and log-likelihoods. */
  static Part accumulate(Iterator<InternalRow> rows, ModelBytes model, int numParams, int numFeatures,
      int numClasses, int threads, String source, LongAccumulator done) {
    TaskThreads.limit(threads);
    int partition = TaskContext.getPartitionId();
    long start = System.nanoTime();
    EmpiricalFisher f = new EmpiricalFisher(numParams);
    RowLogLikelihoods.Builder logLik = new RowLogLikelihoods.Builder();
    if (!rows.hasNext()) {
      return new Part(f, logLik);
    }
    MultiLayerNetwork net = model.rebuild();
    boolean recorded = true;
    long count = 0;
    long lastLog = start;
    Iterator<ExampleSet> blocks = ExampleTables.internalBlocks(rows, BLOCK_ROWS, true, numFeatures, numClasses, source);
    while (blocks.hasNext()) {
      ExampleSet block = blocks.next();
      double[] ll = new double[block.size()];
      recorded &= PerExampleGradients.forEachWithDoubleLogLik(net, block, ll, (row, g) -> f.add(g));
      if (recorded) {
        logLik.add(block, ll);
      }
      count += block.size();
      done.add(block.size());
      if (System.nanoTime() - lastLog > 30_000_000_000L) {
        lastLog = System.nanoTime();
        RowProgress.taskLog(LOG, "fisher", partition, count, start, false);
      }
    }
    RowProgress.taskLog(LOG, "fisher", partition, count, start, true);
    return new Part(f, recorded ? logLik : null);
  }
}
