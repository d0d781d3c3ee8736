package dev.lethe.spark;

import dev.lethe.Futures;
import dev.lethe.LetheInputException;
import dev.lethe.config.LetheConfig;
import dev.lethe.config.Options;
import dev.lethe.data.Corruption;
import dev.lethe.data.ExampleSet;
import dev.lethe.influence.CurvatureSample;
import dev.lethe.influence.EwcInfluence;
import dev.lethe.influence.InfluenceInputs;
import dev.lethe.influence.IdentificationCurve;
import dev.lethe.influence.InfluenceMethod;
import dev.lethe.influence.InfluenceMethods;
import dev.lethe.influence.InfluenceOptions;
import dev.lethe.influence.LinearInfluence;
import dev.lethe.influence.PreparedInfluence;
import dev.lethe.influence.PumaInfluence;
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
import dev.lethe.spark.io.FisherFiles;
import dev.lethe.spark.io.ModelFiles;
import dev.lethe.spark.io.Provenance;
import dev.lethe.spark.io.Workdir;
import dev.lethe.spark.io.WorkdirLayout;
import dev.lethe.valuation.EmbeddingValuation;
import dev.lethe.valuation.PermutationRunner;
import dev.lethe.valuation.ShapleyGame;
import dev.lethe.valuation.TmcShapleyInfluence;
import java.io.Serializable;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.hadoop.conf.Configuration;
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

/**
 * Stage {@code identify}: scores every training example z by its responsibility r(z) for the failures Fq with the
 * configured method (Tanno et al. 2022, Section 4; {@code identify.method} or {@code --method}) and writes
 * rankings/&lt;method&gt;.parquet, one row per training example, ranked.
 *
 * <p>Phases: (1) on the driver, the method is prepared from theta_hat, the Fisher diagonal, Fq and, for linear
 * influence with full curvature, a seeded sample of the training set (ewc-influence runs its EWC update here and
 * the updated model is published as model/ewc-updated.zip; knn-shapley and tmc-shapley have the penultimate-layer
 * embeddings of the training table computed in Spark partitions, {@link EmbeddingTasks}); (2) the prepared
 * {@link ScorerSpec} (bytes only) is broadcast and every partition of the training set is scored in blocks of rows
 * with batched forward passes (ewc-influence: one per row at theta*, with log p(z | theta_hat) looked up in the
 * fisher stage's fisher/logp.bin, or two when the workdir has none);
 * (3) ranks come from a global sort of (score descending, id ascending) over the scored RDD ({@code sortByKey}
 * then {@code zipWithIndex}; nothing is collected to the driver): rank 1 = the highest score, ties broken by the
 * smaller id. A row's score depends only on the row, so the table is the same for every partitioning.
 */
public final class IdentifyJob implements StageJob {
  private static final Logger LOG = LoggerFactory.getLogger(IdentifyJob.class);
  /** Top fractions of the ranking whose corrupted share is reported when the data carries corruption flags. */
  static final double[] TOP_FRACTIONS = {0.01, 0.05, 0.10, 0.20};

  public static void main(String[] args) {
    StageRunner.main(Stage.IDENTIFY, args);
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

  @Override
  public List<Input> inputs(LetheConfig c) {
    List<Input> in = StageJob.withBaseModel(c, new Input(WorkdirLayout.TRAIN, "prepare"), new Input(WorkdirLayout.QUERY,
        "failures"));
    in.addAll(MethodArtefacts.rankingInputs(c));
    return in;
  }

  /** The ranking of {@code identify.method}, and for ewc-influence its updated model. */
  @Override
  public List<String> outputs(LetheConfig c) {
    String name = InfluenceMethods.requireKnown(c.getString("identify.method"));
    String out = WorkdirLayout.ranking(name);
    return EwcInfluence.NAME.equals(name) ? List.of(out, WorkdirLayout.EWC_UPDATED_MODEL) : List.of(out);
  }

  /** Checks the settings of {@code identify.method}. */
  @Override
  public void validate(LetheConfig c, Configuration hadoop) {
    InfluenceMethods.byName(c.getString("identify.method"), c);
    Options.influence(c);
    c.nonNegativeInt("identify.partitions");
    c.positiveInt("identify.linear.curvature-samples");
    c.nonNegativeInt("spark.nd4j-task-threads");
    c.positiveInt("data.num-classes");
    MethodArtefacts.validate(c);
  }

  @Override
  public void run(JobContext ctx) {
    LetheConfig c = ctx.config();
    Workdir wd = ctx.workdir();
    InfluenceMethod configured = InfluenceMethods.byName(c.getString("identify.method"), c);
    // tmc-shapley's permutations run as Spark tasks
    InfluenceMethod method = configured instanceof TmcShapleyInfluence tmc
        ? tmc.withRunner(permutationTasks(ctx, ctx.partitions("identify.partitions"))) : configured;
    MethodArtefacts artefacts = new MethodArtefacts();
    String name = method.name();
    boolean ewc = EwcInfluence.NAME.equals(name);
    // the methods that solve with identify.linear's curvature
    boolean linear = LinearInfluence.CG.equals(name) || LinearInfluence.LISSA.equals(name)
        || PumaInfluence.NAME.equals(name);
    String out = WorkdirLayout.ranking(name);
    InfluenceOptions options = Options.influence(c);
    int partitions = ctx.partitions("identify.partitions");
    int curvatureSamples = c.positiveInt("identify.linear.curvature-samples");
    int threads = c.nonNegativeInt("spark.nd4j-task-threads");
    int numClasses = c.positiveInt("data.num-classes");
    ModelFiles.Base base = ModelFiles.base(wd, c);
    MultiLayerNetwork net = base.net();
    String fingerprint = NetworkBytes.fingerprint(net);
    int numFeatures = ModelFiles.numInputs(net);
    boolean needsFisher = ewc || (linear && InfluenceOptions.DIAGONAL.equals(options.curvature()));
    DiagonalFisher fisher = needsFisher || wd.exists(WorkdirLayout.FISHER_DIAG) ? FisherFiles.read(wd, net, fingerprint) : null;
    // ewc-influence looks log p(z | theta_hat) up in the fisher stage's table when there is one (its row count is
    // checked against the training table's below)
    RowLogLikelihoods baseLogLik = ewc && fisher != null
        ? FisherFiles.readLogLik(wd, fingerprint, fisher.count()).orElse(null) : null;

    long[] trainReadNanos = {0};
    long t0 = System.nanoTime();
    ctx.describe("read the failure set Fq");
    String queryPath = wd.path(WorkdirLayout.QUERY).toString();
    ExampleSet query = ExampleTables.readCollected(ctx.spark(), queryPath, ExampleTables.FAILURES, WorkdirLayout.QUERY,
        true, numFeatures, numClasses, queryPath);
    if (query.size() == 0) {
      throw LetheInputException.of("%s: the failure set Fq is empty (the model misclassified no query example):"
          + " nothing to explain", queryPath);
    }
    String trainPath = wd.path(WorkdirLayout.TRAIN).toString();
    boolean needsSample = linear && InfluenceOptions.FULL.equals(options.curvature());
    // A method that prepares from theta_hat, the Fisher diagonal and Fq alone (ewc-influence, linear influence with
    // the diagonal curvature) does not wait for the training table: it is read and checked (footers, schema, unique
    // ids, row count: Spark jobs) on another thread while the driver prepares. A bad table is then reported after the
    // preparation. The preparation's N is the Fisher's row count (it only has to be positive there).
    boolean overlap = !needsSample && !method.needsTrainingSet() && fisher != null;
    java.util.function.Supplier<ExampleTables.Table> readTrain = () -> {
      ctx.describe("read the training table");
      long start = System.nanoTime();
      ExampleTables.Table t = ExampleTables.readTable(ctx.spark(), trainPath, ExampleTables.DATA, WorkdirLayout.TRAIN);
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
      InfluenceInputs inputs = artefacts.attach(ctx, name, new InfluenceInputs(net, fisher, query, sample,
          overlap ? fisher.count() : trainTable.count(), options, ctx.seed(), baseLogLik), fingerprint, trainPath);
      if (method.needsBenchmark()) {
        wd.requireInput(WorkdirLayout.BENCHMARK, "failures");
        String benchmarkPath = wd.path(WorkdirLayout.BENCHMARK).toString();
        inputs = inputs.withBenchmark(ExampleTables.readCollected(ctx.spark(), benchmarkPath, ExampleTables.FAILURES,
            WorkdirLayout.BENCHMARK, true, numFeatures, numClasses, benchmarkPath));
      }
      // the data-valuation methods embed the training table in Spark partitions instead of collecting it
      InfluenceMethod preparing = method instanceof EmbeddingValuation v ? v.withEmbeddingPass(new EmbeddingTasks(ctx,
          trainTable.rows(), trainTable.count(), partitions, numFeatures, numClasses, threads, trainPath)) : method;
      if (preparing.needsTrainingSet()) {
        ctx.describe("collect the training set for " + name);
        inputs = inputs.withTrain(ExampleTables.collect(trainTable.rows()
            .select("id", "features", "label", "original_label", "corruption"), true, numFeatures, numClasses, trainPath));
      }
      InfluenceInputs prepareInputs = inputs;
      prepared = Lissa.divergenceIsBadConfig("identify.linear.lissa.scale", () -> preparing.prepare(prepareInputs));
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
    RankCounts counts;
    IdentificationCurve curve;
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
      ctx.describe("rank " + n + " training examples");
      JavaPairRDD<Scored, Long> ranked = scored.keyBy(s -> s).sortByKey(new RankOrder(), true, partitions)
          .keys().zipWithIndex().persist(StorageLevel.MEMORY_AND_DISK());
      counts = ranked.aggregate(new RankCounts(), (st, t) -> st.add(t._1(), t._2() + 1), RankCounts::merge);
      if (counts.rows != n) {
        throw new IllegalStateException("scored " + counts.rows + " rows of " + n);
      }
      JavaRDD<Row> rows = ranked.map(t -> culpritRow(t._1(), t._2() + 1, name));
      ctx.describe("write " + out);
      ctx.spark().createDataFrame(rows, ExampleTables.RANKING).write().mode(SaveMode.ErrorIfExists)
          .parquet(staging.path(out).toString());
      double scoreSeconds = (System.nanoTime() - t1) / 1e9;
      curve = new IdentificationCurve(name, n, counts.corruptedRanks(), prepareSeconds + scoreSeconds);
      ranked.unpersist(false);
      scored.unpersist(false);

      Provenance prov = ctx.provenance("identify").input(wd, WorkdirLayout.TRAIN).input(wd, WorkdirLayout.QUERY)
          .input(wd, base.path(), fingerprint);
      if (fisher != null) {
        prov.input(wd, wd.path(WorkdirLayout.FISHER_DIAG), fisher.modelFingerprint());
      }
      if (baseLogLik != null) {
        prov.input(wd, wd.path(WorkdirLayout.FISHER_LOGP), baseLogLik.modelFingerprint());
      }
      artefacts.inputs(wd, prov);
      if (!artefacts.record.isEmpty()) {
        prov.put("artefacts", artefacts.record);
      }
      prov.put("method", name).put("training_rows", n).put("query_rows", query.size())
          .put("curvature_sample_rows", sample == null ? 0 : sample.size()).put("partitions", partitions)
          .put("positive_scores", counts.positive).put("read_seconds", readSeconds)
          .put("train_read_seconds", trainReadNanos[0] / 1e9).put("train_read_overlapped", overlap)
          .put("prepare_seconds", prepareSeconds)
          .put("score_seconds", scoreSeconds).put("scoring_pass_seconds", scoringPassSeconds)
          .put("diagnostics", jsonSafe(prepared.diagnostics()));
      if (jit0 >= 0 && jit1 >= 0) {
        prov.put("scoring_pass_jit_seconds", (jit1 - jit0) / 1e3);
      }
      if (curve.hasCorruption()) {
        prov.put("corrupted_rows", curve.corrupted()).put("top_corrupted_fraction", topFractions(curve));
      }
      String provJson = prov.toJson();
      if (ewc) {
        staging.writeBytes(WorkdirLayout.EWC_UPDATED_MODEL, ModelFiles.toBytes(prepared.updatedModel()));
        staging.writeProvenance(WorkdirLayout.EWC_UPDATED_MODEL, provJson);
      }
      staging.writeProvenance(out, provJson);
      staging.commit();

      ctx.console().line("identify: %s scored %d training examples against %d failures; r(z) > 0 for %d;"
          + " read inputs %.1f s, prepare %.1f s (driver), scoring and ranking %.1f s (%d partitions, %.0f"
          + " examples/s) -> %s", name, n, query.size(), counts.positive, readSeconds, prepareSeconds, scoreSeconds,
          partitions, n / scoreSeconds, wd.path(out));
      if (curve.hasCorruption()) {
        StringBuilder b = new StringBuilder();
        for (double f : TOP_FRACTIONS) {
          long cut = curve.cut(f);
          b.append(String.format(Locale.ROOT, "%s%s %.1f%% (%d/%d)", b.length() == 0 ? "" : ", ",
              IdentificationCurve.label(f), 100 * curve.shareInTop(f), curve.corruptedInTop(cut), cut));
        }
        ctx.console().line("identify: corrupted share among the culprits: %s; random baseline %.1f%% (%d/%d)",
            b, 100 * curve.baseRate(), curve.corrupted(), n);
      }
    } finally {
      TaskThreads.restore(driverThreads);
      spec.destroy();
    }
  }

  /**
   * tmc-shapley's permutations as Spark tasks: each round's permutation indices in at most {@code partitions} slices,
   * each task running whole permutations of the broadcast game; the results come back in permutation order.
   */
  static PermutationRunner permutationTasks(JobContext ctx, int partitions) {
    return (game, from, count) -> {
      ctx.describe("tmc-shapley: permutations " + from + " to " + (from + count - 1));
      Broadcast<ShapleyGame> shared = ctx.jsc().broadcast(game);
      try {
        List<Long> ts = java.util.stream.LongStream.range(from, from + count).boxed().toList();
        return ctx.jsc().parallelize(ts, Math.max(1, Math.min(count, partitions)))
            .map(t -> shared.value().permutation(t)).collect();
      } finally {
        shared.destroy();
      }
    };
  }

  /**
   * This JVM's JIT compilation time so far in milliseconds (the sum over its compiler threads), or -1 when the JVM
   * does not report it. Its growth during the scoring pass goes into the provenance: in local mode the tasks run in
   * this JVM, and compiler threads take cores from them (a short pass in a young JVM can lose a good part of its
   * time this way).
   */
  static long jitMillis() {
    java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
    return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : -1;
  }

  /** The rows of the seeded curvature sample ({@link CurvatureSample}) of the training table. */
  static ExampleSet curvatureSample(JobContext ctx, Dataset<Row> train, int m, int numFeatures, int numClasses,
      String source) {
    ctx.describe("draw the curvature sample");
    long[] ids = train.select("id").as(Encoders.LONG()).collectAsList().stream().mapToLong(Long::longValue).toArray();
    List<Long> chosen = Arrays.stream(CurvatureSample.choose(ids, m, ctx.seed())).boxed().toList();
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

  /** Counts over the ranked table: its rows, its positive scores, and the ranks of its corrupted examples. */
  static final class RankCounts implements Serializable {
    private static final long serialVersionUID = 1L;
    long rows;
    long positive;
    private long[] corrupted = new long[16];
    private int numCorrupted;

    RankCounts add(Scored s, long rank) {
      rows++;
      if (s.score() > 0) {
        positive++;
      }
      if (s.corrupted()) {
        if (numCorrupted == corrupted.length) {
          corrupted = Arrays.copyOf(corrupted, 2 * numCorrupted);
        }
        corrupted[numCorrupted++] = rank;
      }
      return this;
    }

    RankCounts merge(RankCounts o) {
      rows += o.rows;
      positive += o.positive;
      for (int i = 0; i < o.numCorrupted; i++) {
        if (numCorrupted == corrupted.length) {
          corrupted = Arrays.copyOf(corrupted, 2 * numCorrupted);
        }
        corrupted[numCorrupted++] = o.corrupted[i];
      }
      return this;
    }

    long[] corruptedRanks() {
      return Arrays.copyOf(corrupted, numCorrupted);
    }
  }

  /** The share of corrupted examples among each reported top of the ranking, and the random ranking's share. */
  private static Map<String, Object> topFractions(IdentificationCurve curve) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (double f : TOP_FRACTIONS) {
      m.put(IdentificationCurve.key(f), curve.shareInTop(f));
    }
    m.put("random_baseline", curve.baseRate());
    return m;
  }

  /** Diagnostics with non-finite numbers as strings (JSON has no NaN). */
  private static Map<String, Object> jsonSafe(Map<String, Object> d) {
    Map<String, Object> m = new LinkedHashMap<>();
    d.forEach((k, v) -> m.put(k, v instanceof Double x && !Double.isFinite(x) ? String.valueOf(x) : v));
    return m;
  }
}
