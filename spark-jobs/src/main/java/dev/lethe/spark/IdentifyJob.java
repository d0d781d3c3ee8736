package dev.lethe.spark;

import com.typesafe.config.Config;
import dev.lethe.Futures;
import dev.lethe.LetheInputException;
import dev.lethe.Seeds;
import dev.lethe.config.LetheConfig;
import dev.lethe.config.Options;
import dev.lethe.data.Corruption;
import dev.lethe.data.ExampleSet;
import dev.lethe.influence.EwcInfluence;
import dev.lethe.influence.InfluenceInputs;
import dev.lethe.influence.InfluenceMethod;
import dev.lethe.influence.InfluenceMethods;
import dev.lethe.influence.InfluenceOptions;
import dev.lethe.influence.LinearInfluence;
import dev.lethe.influence.PreparedInfluence;
import dev.lethe.influence.ScoredBlock;
import dev.lethe.influence.Scorer;
import dev.lethe.influence.ScorerSpec;
import dev.lethe.math.DiagonalFisher;
import dev.lethe.math.Lissa;
import dev.lethe.math.NetworkBytes;
import dev.lethe.math.RowLogLikelihoods;
import dev.lethe.spark.exec.RowProgress;
import dev.lethe.spark.exec.TaskThreads;
import dev.lethe.spark.io.ExampleTables;
import dev.lethe.spark.io.Json;
import dev.lethe.spark.io.ModelFiles;
import dev.lethe.spark.io.Provenance;
import dev.lethe.spark.io.Workdir;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.functions;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.LongAccumulator;
import org.apache.spark.util.TaskCompletionListener;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * Stage {@code identify}: scores every training example z by its responsibility r(z) for the failures Fq with the
 * configured method (Tanno et al. 2022, Section 4; {@code identify.method} or {@code --method}) and writes
 * culprits/&lt;method&gt;.parquet, one row per training example, ranked.
 *
 * <p>Phases: (1) on the driver, the method is prepared from theta_hat, the Fisher diagonal, Fq and, for linear
 * influence with full curvature, a seeded sample of the training set (ewc-influence runs its EWC update here and
 * the updated model is published as model/ewc-updated.zip); (2) the prepared {@link ScorerSpec} (bytes only) is
 * broadcast and every partition of the training set is scored in blocks of rows with batched forward passes
 * (ewc-influence: one per row at theta*, with log p(z | theta_hat) looked up in the fisher stage's fisher/logp.bin,
 * or two when the workdir has none);
 * (3) ranks come from a global sort of (score descending, id ascending) over the scored RDD ({@code sortByKey}
 * then {@code zipWithIndex}; nothing is collected to the driver): rank 1 = the highest score, ties broken by the
 * smaller id. A row's score depends only on the row, so the table is the same for every partitioning.
 */
public final class IdentifyJob {
  private static final Logger LOG = LoggerFactory.getLogger(IdentifyJob.class);
  /** Top fractions of the ranking whose corrupted share is reported when the data carries corruption flags. */
  static final double[] TOP_FRACTIONS = {0.01, 0.05, 0.10, 0.20};

  private IdentifyJob() {}

  public static void main(String[] args) {
    StageRunner.main("identify", args);
  }

  /** The output table of a method. */
  public static String culprits(String method) {
    return "culprits/" + method + ".parquet";
  }

  /** The provenance of {@code wd}'s culprits table of {@code method} (its timings and diagnostics). */
  public static Config provenance(Workdir wd, String method) {
    String rel = culprits(method) + Workdir.PROVENANCE_SUFFIX;
    return Json.parse(wd.readBytes(rel), wd.path(rel).toString());
  }

  /** One scored training example (before ranking). */
  record Scored(long id, double score, int label, double logpBefore, double logpAfter, boolean corrupted)
      implements Serializable {
    private static final long serialVersionUID = 1L;
  }

  /** Rank order: score descending, then id ascending. */
  static final class RankOrder implements Comparator<Scored>, Serializable {
    private static final long serialVersionUID = 1L;

    @Override
    public int compare(Scored a, Scored b) {
      int c = Double.compare(b.score(), a.score());
      return c != 0 ? c : Long.compare(a.id(), b.id());
    }
  }

  /** Checks the identify settings of {@code identify.method} without running anything (the pipeline's check). */
  static void validate(LetheConfig c) {
    InfluenceMethods.byName(c.getString("identify.method"));
    Options.influence(c);
    c.nonNegativeInt("identify.partitions");
    c.positiveInt("identify.linear.curvature-samples");
    c.nonNegativeInt("spark.nd4j-task-threads");
    c.positiveInt("data.num-classes");
  }

  static void run(JobContext ctx) {
    LetheConfig c = ctx.config();
    Workdir wd = ctx.workdir();
    validate(c);
    InfluenceMethod method = InfluenceMethods.byName(c.getString("identify.method"));
    String name = method.name();
    boolean ewc = EwcInfluence.NAME.equals(name);
    boolean linear = LinearInfluence.CG.equals(name) || LinearInfluence.LISSA.equals(name);
    String out = culprits(name);
    wd.requireWritable(ewc ? List.of(out, ModelFiles.EWC_UPDATED) : List.of(out));
    InfluenceOptions options = Options.influence(c);
    int partitions = ctx.partitions("identify.partitions");
    int curvatureSamples = c.positiveInt("identify.linear.curvature-samples");
    int threads = c.nonNegativeInt("spark.nd4j-task-threads");
    int numClasses = c.positiveInt("data.num-classes");
    wd.requireInput(PrepareJob.TRAIN, "prepare");
    wd.requireInput(FailuresJob.QUERY, "failures");
    ModelFiles.Base base = ModelFiles.base(wd, c);
    MultiLayerNetwork net = base.net();
    String fingerprint = NetworkBytes.fingerprint(net);
    int numFeatures = ModelFiles.numInputs(net);
    boolean needsFisher = ewc || (linear && InfluenceOptions.DIAGONAL.equals(options.curvature()));
    DiagonalFisher fisher = needsFisher || wd.exists(FisherJob.DIAG) ? FisherJob.read(wd, net, fingerprint) : null;
    // ewc-influence looks log p(z | theta_hat) up in the fisher stage's table when there is one (its row count is
    // checked against the training table's below)
    RowLogLikelihoods baseLogLik = ewc && fisher != null
        ? FisherJob.readLogLik(wd, fingerprint, fisher.count()).orElse(null) : null;

    long[] trainReadNanos = {0};
    long t0 = System.nanoTime();
    ctx.describe("read the failure set Fq");
    String queryPath = wd.path(FailuresJob.QUERY).toString();
    ExampleSet query = ExampleTables.readCollected(ctx.spark(), queryPath, ExampleTables.FAILURES, FailuresJob.QUERY,
        true, numFeatures, numClasses, queryPath);
    if (query.size() == 0) {
      throw LetheInputException.of("%s: the failure set Fq is empty (the model misclassified no query example):"
          + " nothing to explain", queryPath);
    }
    String trainPath = wd.path(PrepareJob.TRAIN).toString();
    boolean needsSample = linear && InfluenceOptions.FULL.equals(options.curvature());
    // A method that prepares from theta_hat, the Fisher diagonal and Fq alone (ewc-influence, linear influence with
    // the diagonal curvature) does not wait for the training table: it is read and checked (footers, schema, unique
    // ids, row count: Spark jobs) on another thread while the driver prepares. A bad table is then reported after the
    // preparation. The preparation's N is the Fisher's row count (it only has to be positive there).
    boolean overlap = !needsSample && fisher != null;
    java.util.function.Supplier<ExampleTables.Table> readTrain = () -> {
      ctx.describe("read the training table");
      long start = System.nanoTime();
      ExampleTables.Table t = ExampleTables.readTable(ctx.spark(), trainPath, ExampleTables.DATA, PrepareJob.TRAIN);
      trainReadNanos[0] = System.nanoTime() - start;
      if (t.count() == 0) {
        throw LetheInputException.of("%s: the training table is empty", trainPath);
      }
      return t;
    };
    ExampleTables.Table trainTable;
    PreparedInfluence prepared;
    double readSeconds;
    double prepareSeconds;
    ExampleSet sample = null;
    // closing waits for the read when the preparation fails: no Spark job of this stage outlives it
    try (Futures.Background<ExampleTables.Table> pending =
        overlap ? Futures.Background.start("lethe-identify-read-train", readTrain) : null) {
      trainTable = overlap ? null : readTrain.get();
      if (needsSample) {
        sample = curvatureSample(ctx, trainTable.rows(), curvatureSamples, numFeatures, numClasses, trainPath);
      }
      long tPrepare = System.nanoTime();
      readSeconds = (tPrepare - t0) / 1e9;
      ctx.describe("prepare " + name + " on the driver");
      InfluenceInputs inputs = new InfluenceInputs(net, fisher, query, sample,
          overlap ? fisher.count() : trainTable.count(), options, ctx.seed(), baseLogLik);
      prepared = Lissa.divergenceIsBadConfig("identify.linear.lissa.scale", () -> method.prepare(inputs));
      prepareSeconds = (System.nanoTime() - tPrepare) / 1e9;
      if (overlap) {
        long tWait = System.nanoTime();
        trainTable = pending.join("the training table");
        readSeconds += (System.nanoTime() - tWait) / 1e9;
      }
    }
    Dataset<Row> train = trainTable.rows();
    long n = trainTable.count();
    if (baseLogLik != null) {
      baseLogLik.requireMatches(fingerprint, n);
    }
    LOG.info("{} prepared on the driver in {} s: {}", name, String.format("%.1f", prepareSeconds),
        prepared.diagnostics());

    long jit0 = jitMillis();
    long t1 = System.nanoTime();
    Broadcast<ScorerSpec> spec = ctx.jsc().broadcast(prepared.spec());
    TaskThreads.Setting driverThreads = TaskThreads.current();
    int blockRows = 4 * options.scoreBatchSize();
    Stats stats;
    try (RowProgress progress = new RowProgress(ctx.jsc(), "identify " + name, n, 15);
         Workdir.Staging staging = wd.stage("identify")) {
      LongAccumulator done = progress.rows();
      ctx.describe("score " + n + " training examples with " + name + ", " + partitions + " partitions");
      JavaRDD<Scored> scored = ExampleTables.inPartitions(train, partitions)
          .mapPartitions(rows -> score(rows, spec.value(), blockRows, numFeatures, numClasses, threads, trainPath,
              name, done))
          .persist(StorageLevel.MEMORY_AND_DISK());
      long nonFinite = scored.filter(s -> !Double.isFinite(s.score())).count();
      double scoringPassSeconds = (System.nanoTime() - t1) / 1e9;
      long jit1 = jitMillis();
      if (nonFinite > 0) {
        throw new IllegalStateException(name + " produced " + nonFinite + " non-finite scores");
      }
      ctx.describe("rank " + n + " culprits");
      JavaPairRDD<Scored, Long> ranked = scored.keyBy(s -> s).sortByKey(new RankOrder(), true, partitions)
          .keys().zipWithIndex().persist(StorageLevel.MEMORY_AND_DISK());
      long[] cut = new long[TOP_FRACTIONS.length];
      for (int i = 0; i < cut.length; i++) {
        cut[i] = Math.max(1, Math.round(TOP_FRACTIONS[i] * n));
      }
      stats = ranked.aggregate(new Stats(cut.length), (st, t) -> st.add(t._1(), t._2() + 1, cut), Stats::merge);
      if (stats.rows != n) {
        throw new IllegalStateException("scored " + stats.rows + " rows of " + n);
      }
      JavaRDD<Row> rows = ranked.map(t -> culpritRow(t._1(), t._2() + 1, name));
      ctx.describe("write " + out);
      ctx.spark().createDataFrame(rows, ExampleTables.CULPRITS).write().mode(SaveMode.ErrorIfExists)
          .parquet(staging.path(out).toString());
      double scoreSeconds = (System.nanoTime() - t1) / 1e9;
      ranked.unpersist(false);
      scored.unpersist(false);

      Provenance prov = ctx.provenance("identify").input(wd, PrepareJob.TRAIN).input(wd, FailuresJob.QUERY)
          .input(wd, base.path(), fingerprint);
      if (fisher != null) {
        prov.input(wd, wd.path(FisherJob.DIAG), fisher.modelFingerprint());
      }
      if (baseLogLik != null) {
        prov.input(wd, wd.path(FisherJob.LOGP), baseLogLik.modelFingerprint());
      }
      prov.put("method", name).put("training_rows", n).put("query_rows", query.size())
          .put("curvature_sample_rows", sample == null ? 0 : sample.size()).put("partitions", partitions)
          .put("positive_scores", stats.positive).put("read_seconds", readSeconds)
          .put("train_read_seconds", trainReadNanos[0] / 1e9).put("train_read_overlapped", overlap)
          .put("prepare_seconds", prepareSeconds)
          .put("score_seconds", scoreSeconds).put("scoring_pass_seconds", scoringPassSeconds)
          .put("diagnostics", jsonSafe(prepared.diagnostics()));
      if (jit0 >= 0 && jit1 >= 0) {
        prov.put("scoring_pass_jit_seconds", (jit1 - jit0) / 1e3);
      }
      if (stats.corrupted > 0) {
        prov.put("corrupted_rows", stats.corrupted).put("top_corrupted_fraction", topFractions(stats, cut));
      }
      String provJson = prov.toJson();
      if (ewc) {
        staging.writeBytes(ModelFiles.EWC_UPDATED, ModelFiles.toBytes(prepared.updatedModel()));
        staging.writeProvenance(ModelFiles.EWC_UPDATED, provJson);
      }
      staging.writeProvenance(out, provJson);
      staging.commit();

      ctx.console().line("identify: %s scored %d training examples against %d failures; r(z) > 0 for %d;"
          + " read inputs %.1f s, prepare %.1f s (driver), scoring and ranking %.1f s (%d partitions, %.0f"
          + " examples/s) -> %s", name, n, query.size(), stats.positive, readSeconds, prepareSeconds, scoreSeconds,
          partitions, n / scoreSeconds, wd.path(out));
      if (stats.corrupted > 0) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < cut.length; i++) {
          b.append(String.format(java.util.Locale.ROOT, "%stop %.0f%% %.1f%% (%d/%d)", i == 0 ? "" : ", ",
              100 * TOP_FRACTIONS[i], 100.0 * stats.corruptedInTop[i] / cut[i], stats.corruptedInTop[i], cut[i]));
        }
        ctx.console().line("identify: corrupted share among the culprits: %s; random baseline %.1f%% (%d/%d)",
            b, 100.0 * stats.corrupted / n, stats.corrupted, n);
      }
    } finally {
      TaskThreads.restore(driverThreads);
      spec.destroy();
    }
  }

  /**
   * This JVM's JIT compilation time so far in milliseconds (the sum over its compiler threads), or -1 when the JVM
   * does not report it. Its growth during the scoring pass goes into the provenance: in local mode the tasks run in
   * this JVM, and compiler threads take cores from them (a short pass in a young JVM loses a good part of its time
   * this way; measured in BENCHMARKS.md).
   */
  static long jitMillis() {
    java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
    return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : -1;
  }

  /**
   * The seeded curvature sample: the {@code m} training rows with the smallest keys Seeds.derive(seed,
   * "identify.curvature-sample", id), so it depends on the ids and the seed only (not on the partitioning).
   */
  static ExampleSet curvatureSample(JobContext ctx, Dataset<Row> train, int m, int numFeatures, int numClasses,
      String source) {
    ctx.describe("draw the curvature sample");
    long seed = Seeds.derive(ctx.seed(), "identify.curvature-sample");
    List<Long> ids = train.select("id").as(Encoders.LONG()).collectAsList();
    long[][] keyed = new long[ids.size()][];
    for (int i = 0; i < keyed.length; i++) {
      long id = ids.get(i);
      keyed[i] = new long[] {Seeds.derive(seed, "row", id), id};
    }
    Arrays.sort(keyed, (a, b) -> a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
    List<Long> chosen = new ArrayList<>();
    for (int i = 0; i < Math.min(m, keyed.length); i++) {
      chosen.add(keyed[i][1]);
    }
    Dataset<Row> idDf = ctx.spark().createDataset(chosen, Encoders.LONG()).toDF("id");
    Dataset<Row> rows = train.join(functions.broadcast(idDf), "id")
        .select("id", "features", "label", "original_label", "corruption");
    return ExampleTables.collect(rows, true, numFeatures, numClasses, source + " (curvature sample)");
  }

  /**
   * Scores one partition lazily: the returned iterator pulls one block of {@code blockRows} rows from {@code rows},
   * scores it, and hands out its results before it reads the next block, so a task holds at most one block of
   * features and one block of scores at a time, whatever the partition size. The scorer (and its ND4J workspace)
   * is closed when the partition is exhausted, or when the task ends early (failure or cancellation).
   */
  static Iterator<Scored> score(Iterator<InternalRow> rows, ScorerSpec spec, int blockRows, int numFeatures,
      int numClasses, int threads, String source, String name, LongAccumulator done) {
    TaskThreads.limit(threads);
    if (!rows.hasNext()) {
      return Collections.emptyIterator();
    }
    return new PartitionScores(ExampleTables.internalBlocks(rows, blockRows, true, numFeatures, numClasses, source),
        spec.open(), name, done);
  }

  /** The lazy per-partition iterator behind {@link #score}. */
  private static final class PartitionScores implements Iterator<Scored> {
    private final Iterator<ExampleSet> blocks;
    private final String name;
    private final LongAccumulator done;
    private final int partition;
    private final long start = System.nanoTime();
    private Scorer scorer;
    private ExampleSet block;
    private ScoredBlock scores;
    private int next;
    private long rows;
    private long lastLog = start;

    PartitionScores(Iterator<ExampleSet> blocks, Scorer scorer, String name, LongAccumulator done) {
      this.blocks = blocks;
      this.scorer = scorer;
      this.name = name;
      this.done = done;
      TaskContext task = TaskContext.get();
      this.partition = task == null ? -1 : task.partitionId();
      if (task != null) {
        task.addTaskCompletionListener((TaskCompletionListener) t -> close());
      }
    }

    @Override
    public boolean hasNext() {
      while ((block == null || next == block.size()) && scorer != null) {
        if (!blocks.hasNext()) {
          close();
          RowProgress.taskLog(LOG, "identify " + name, partition, rows, start, true);
          return false;
        }
        block = blocks.next();
        scores = scorer.score(block);
        next = 0;
        rows += block.size();
        done.add(block.size());
        if (System.nanoTime() - lastLog > 30_000_000_000L) {
          lastLog = System.nanoTime();
          RowProgress.taskLog(LOG, "identify " + name, partition, rows, start, false);
        }
      }
      return block != null && next < block.size();
    }

    @Override
    public Scored next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      int i = next++;
      return new Scored(block.id(i), scores.score()[i], block.label(i), scores.logpBefore()[i],
          scores.logpAfter()[i], block.corruption(i) != Corruption.NONE);
    }

    private void close() {
      if (scorer != null) {
        Scorer s = scorer;
        scorer = null;
        s.close();
      }
    }
  }

  static Row culpritRow(Scored s, long rank, String method) {
    return RowFactory.create(s.id(), s.score(), rank, s.label(), nullIfNaN(s.logpBefore()),
        nullIfNaN(s.logpAfter()), method);
  }

  private static Double nullIfNaN(double v) {
    return Double.isNaN(v) ? null : v;
  }

  /** Counts over the ranked table. */
  static final class Stats implements Serializable {
    private static final long serialVersionUID = 1L;
    long rows;
    long positive;
    long corrupted;
    final long[] corruptedInTop;

    Stats(int cuts) {
      corruptedInTop = new long[cuts];
    }

    Stats add(Scored s, long rank, long[] cut) {
      rows++;
      if (s.score() > 0) {
        positive++;
      }
      if (s.corrupted()) {
        corrupted++;
        for (int i = 0; i < cut.length; i++) {
          if (rank <= cut[i]) {
            corruptedInTop[i]++;
          }
        }
      }
      return this;
    }

    Stats merge(Stats o) {
      rows += o.rows;
      positive += o.positive;
      corrupted += o.corrupted;
      for (int i = 0; i < corruptedInTop.length; i++) {
        corruptedInTop[i] += o.corruptedInTop[i];
      }
      return this;
    }
  }

  private static Map<String, Object> topFractions(Stats stats, long[] cut) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < cut.length; i++) {
      m.put(String.format(java.util.Locale.ROOT, "top_%.0f_percent", 100 * TOP_FRACTIONS[i]),
          (double) stats.corruptedInTop[i] / cut[i]);
    }
    m.put("random_baseline", (double) stats.corrupted / stats.rows);
    return m;
  }

  /** Diagnostics with non-finite numbers as strings (JSON has no NaN). */
  private static Map<String, Object> jsonSafe(Map<String, Object> d) {
    Map<String, Object> m = new LinkedHashMap<>();
    d.forEach((k, v) -> m.put(k, v instanceof Double x && !Double.isFinite(x) ? String.valueOf(x) : v));
    return m;
  }
}
