package dev.lethe.spark;

import dev.lethe.data.ExampleSet;
import dev.lethe.spark.exec.ModelBytes;
import dev.lethe.spark.exec.RowProgress;
import dev.lethe.spark.exec.TaskThreads;
import dev.lethe.spark.io.ExampleTables;
import dev.lethe.valuation.EmbeddingPass;
import dev.lethe.valuation.PenultimateFeatures;
import dev.lethe.valuation.TrainingEmbeddings;
import java.io.Serializable;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.TaskContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.util.LongAccumulator;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data-valuation methods' {@link EmbeddingPass} in Spark partitions of the training table: theta_hat travels to
 * the executors as bytes (broadcast), each partition streams its rows in blocks through {@link PenultimateFeatures}
 * (the backend {@code BackendSelector} chooses there: the CNN fast path for the paper CNN), and only ids, labels and
 * embeddings come back to the driver, where they are put in id order. A row's embedding depends only on the row, so
 * the result does not depend on the partitioning.
 */
final class EmbeddingTasks implements EmbeddingPass {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddingTasks.class);

  private final JobContext ctx;
  private final Dataset<Row> train;
  private final long rows;
  private final int partitions;
  private final int numFeatures;
  private final int numClasses;
  private final int threads;
  private final String source;

  /**
   * @param train the training table (data schema)
   * @param rows its row count
   * @param threads ND4J threads per task ({@code spark.nd4j-task-threads})
   * @param source the table's path, for messages
   */
  EmbeddingTasks(JobContext ctx, Dataset<Row> train, long rows, int partitions, int numFeatures, int numClasses,
      int threads, String source) {
    this.ctx = ctx;
    this.train = train;
    this.rows = rows;
    this.partitions = partitions;
    this.numFeatures = numFeatures;
    this.numClasses = numClasses;
    this.threads = threads;
    this.source = source;
  }

  /** One partition's ids, labels and embeddings (row-major, {@code dimension} values per row). */
  record Part(long[] ids, int[] labels, double[] x, int dimension) implements Serializable {
    private static final long serialVersionUID = 1L;
  }

  @Override
  public TrainingEmbeddings embed(MultiLayerNetwork net, int batchSize) {
    ctx.describe("penultimate-layer embeddings of " + rows + " training examples, " + partitions + " partitions");
    long t0 = System.nanoTime();
    Broadcast<ModelBytes> model = ctx.jsc().broadcast(ModelBytes.of(net));
    TaskThreads.Setting driverThreads = TaskThreads.current();
    List<Part> parts;
    try (RowProgress progress = new RowProgress(ctx.jsc(), "embeddings", rows, 15)) {
      LongAccumulator done = progress.rows();
      // locals only in the task's closure (this object holds the driver's context)
      int blockRows = 4 * batchSize;
      int features = numFeatures;
      int classes = numClasses;
      int taskThreads = threads;
      String where = source;
      parts = ExampleTables.inPartitions(train, partitions)
          .mapPartitions(it -> List.of(part(it, model.value(), blockRows, batchSize, features, classes,
              taskThreads, where, done)).iterator())
          .collect();
    } finally {
      TaskThreads.restore(driverThreads);
      model.destroy();
    }
    TrainingEmbeddings d = assemble(parts);
    if (d.size() != rows) {
      throw new IllegalStateException("embedded " + d.size() + " training rows of " + rows);
    }
    LOG.info("embeddings of {} training examples ({} values each) in {} s", d.size(), d.dimension(),
        String.format("%.1f", (System.nanoTime() - t0) / 1e9));
    return d;
  }

  /** The parts' rows in ascending id order. */
  static TrainingEmbeddings assemble(List<Part> parts) {
    int n = 0;
    for (Part p : parts) {
      n += p.ids().length;
    }
    long[] ids = new long[n];
    int[] labels = new int[n];
    double[][] x = new double[n][];
    int at = 0;
    for (Part p : parts) {
      for (int i = 0; i < p.ids().length; i++) {
        ids[at] = p.ids()[i];
        labels[at] = p.labels()[i];
        x[at] = Arrays.copyOfRange(p.x(), i * p.dimension(), (i + 1) * p.dimension());
        at++;
      }
    }
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Long.compare(ids[a], ids[b]));
    long[] sortedIds = new long[n];
    int[] sortedLabels = new int[n];
    double[][] sortedX = new double[n][];
    for (int i = 0; i < n; i++) {
      sortedIds[i] = ids[order[i]];
      sortedLabels[i] = labels[order[i]];
      sortedX[i] = x[order[i]];
    }
    return new TrainingEmbeddings(sortedIds, sortedLabels, sortedX);
  }

  /** One partition's embeddings, block by block. */
  static Part part(Iterator<InternalRow> it, ModelBytes model, int blockRows, int batchSize, int numFeatures,
      int numClasses, int threads, String source, LongAccumulator done) {
    TaskThreads.limit(threads);
    if (!it.hasNext()) {
      return new Part(new long[0], new int[0], new double[0], 0);
    }
    int partition = TaskContext.getPartitionId();
    long start = System.nanoTime();
    long lastLog = start;
    // in double precision (as the driver's copy): a row's embedding must not depend on its place in a block
    MultiLayerNetwork net = dev.lethe.math.NetworkBytes.rebuild(model.config(), model.params(),
        org.nd4j.linalg.api.buffer.DataType.DOUBLE);
    long[] ids = new long[0];
    int[] labels = new int[0];
    double[] x = new double[0];
    int n = 0;
    int dim = 0;
    Iterator<ExampleSet> blocks = ExampleTables.internalBlocks(it, blockRows, true, numFeatures, numClasses, source);
    while (blocks.hasNext()) {
      ExampleSet block = blocks.next();
      double[][] z = PenultimateFeatures.of(net, block, batchSize);
      dim = z[0].length;
      if (n + block.size() > ids.length) {
        int cap = Math.max(2 * ids.length, n + block.size());
        ids = Arrays.copyOf(ids, cap);
        labels = Arrays.copyOf(labels, cap);
        x = Arrays.copyOf(x, cap * dim);
      }
      for (int i = 0; i < block.size(); i++) {
        ids[n] = block.id(i);
        labels[n] = block.label(i);
        System.arraycopy(z[i], 0, x, n * dim, dim);
        n++;
      }
      done.add(block.size());
      if (System.nanoTime() - lastLog > 30_000_000_000L) {
        lastLog = System.nanoTime();
        RowProgress.taskLog(LOG, "embeddings", partition, n, start, false);
      }
    }
    RowProgress.taskLog(LOG, "embeddings", partition, n, start, true);
    return new Part(Arrays.copyOf(ids, n), Arrays.copyOf(labels, n), Arrays.copyOf(x, n * dim), dim);
  }
}
