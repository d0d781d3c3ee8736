package dev.lethe.bench;

import com.typesafe.config.Config;
import dev.lethe.LetheInputException;
import dev.lethe.config.LetheConfig;
import dev.lethe.data.ExampleSet;
import dev.lethe.influence.EwcInfluence;
import dev.lethe.influence.Scorer;
import dev.lethe.influence.ScorerSpec;
import dev.lethe.spark.StageRunner;
import dev.lethe.spark.cli.Console;
import dev.lethe.spark.io.RankingTables;
import dev.lethe.spark.io.ExampleTables;
import dev.lethe.spark.io.FisherFiles;
import dev.lethe.spark.io.ModelFiles;
import dev.lethe.spark.io.Workdir;
import dev.lethe.spark.io.WorkdirLayout;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntToDoubleFunction;
import java.util.stream.IntStream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * The {@code scale} suite (issue 7, item 4): how cause identification scales with the training set and the cores.
 *
 * <ol>
 *   <li>For each size of {@code bench.scale.train-sizes} (default 6000 and 60000, the full Fashion-MNIST training
 *       set, read from {@code bench.scale.fashion-mnist-dir}), the stages prepare, train, failures, fisher and
 *       identify (ewc-influence) run, each in its own JVM on {@code local[*]}: their wall times and peak memory are
 *       recorded, and the identify time ratio of the largest to the smallest size (target: at most 10.5 for 10x the
 *       data), with its scoring pass alone.
 *   <li>On the smallest size, identify runs again under {@code local[1]} and {@code local[2]}: the speed-up of the
 *       scoring pass.
 *   <li>On the smallest and on the largest size, the same scorer (theta_hat and the theta* identify wrote) runs over
 *       the same training rows in a plain loop in this JVM, without Spark: Spark's scoring pass over that loop is
 *       Spark's overhead (target: at most 1.2; at the small size Spark's fixed costs weigh most). Both sides are
 *       timed in the same state of the JIT: identify runs in this JVM and the loop runs, each
 *       {@code bench.scale.overhead-warmups} times untimed and then {@code bench.scale.overhead-runs} times timed,
 *       and the overhead is the ratio of the medians. The fresh identify JVM's pass over the same loop is recorded
 *       beside it ({@code spark_overhead_fresh_jvm}): it adds the JIT compilation a fresh JVM pays, which a plain
 *       program started afresh would pay too.
 *   <li>The same passes give the scoring roofline (issue 7, item 3; {@link Roofline}) over many more rows than the
 *       paper protocol's 3000, whose half-second pass loses a good part of its time to the JIT compiler threads of a
 *       young JVM: on the smallest and on the largest size, the fresh identify JVM's scoring rate and the warm
 *       runs' (the median above) over the double-precision GEMM rate with as many threads, measured in this run.
 *   <li>On the largest size, identify with knn-shapley runs under {@code local[2]}: its wall time against issue 33's
 *       target (under 2 minutes on 2 cores), with its embedding pass and its values.
 *   <li>On the smallest size, identify with confident-learning runs under {@code local[1]} and {@code local[2]}:
 *       the parallel speed-up of its k fold trainings.
 * </ol>
 * Every comparison is between runs of one suite invocation on one machine.
 */
public final class ScaleSuite {
  static final String EXPERIMENT = "scale";
  static final String METHOD = EwcInfluence.NAME;
  static final String KNN = dev.lethe.valuation.KnnShapleyInfluence.NAME;
  static final double KNN_TARGET_SECONDS = 120;
  static final String CONFIDENT_LEARNING = dev.lethe.influence.ConfidentLearning.NAME;
  static final List<String> STAGES = List.of("prepare", "train", "failures", "fisher", "identify");
  static final double RATIO_TARGET = 10.5;
  static final double OVERHEAD_TARGET = 1.2;
  /** Where Debian's dataset-fashion-mnist package installs the IDX files. */
  static final String DEBIAN_DIR = "/usr/share/datasets/fashion-mnist";
  static final String[] IDX_FILES = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
      "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};

  private ScaleSuite() {}

  /** Receives one measurement (one row of results.csv). */
  @FunctionalInterface
  interface Recorder {
    void record(String experiment, String setting, long seed, String method, String metric, double value,
        String unit);
  }

  /** The figures of one training-set size. */
  record SizeRun(int size, long trainRows, Path workdir, double identifySeconds, double prepareSeconds,
      double scoringPassSeconds, long peakResidentMb, Config provenance) {}

  /** The suite's settings, from the {@code bench.scale} keys. */
  record Settings(List<Integer> trainSizes, int testSize, int trainEpochs, String architecture, Path dataDir,
      long seed, boolean isolateStages, int overheadWarmups, int overheadRuns) {
    static Settings of(LetheConfig c) {
      List<Integer> sizes = c.getIntList("bench.scale.train-sizes");
      if (sizes.isEmpty() || sizes.stream().anyMatch(s -> s < 1)) {
        throw LetheInputException.of("config key 'bench.scale.train-sizes': give one or more sizes >= 1, got %s",
            sizes);
      }
      return new Settings(sizes.stream().sorted().distinct().toList(), c.nonNegativeInt("bench.scale.test-size"),
          c.positiveInt("bench.scale.train-epochs"), c.getString("model.architecture"),
          ScaleSuite.dataDir(c.getString("bench.scale.fashion-mnist-dir")), c.getLong("seed"),
          c.getBoolean("bench.scale.isolate-stages"), c.nonNegativeInt("bench.scale.overhead-warmups"),
          c.positiveInt("bench.scale.overhead-runs"));
    }
  }

  /** The directory with the four Fashion-MNIST IDX files: the configured one, else Debian's. */
  static Path dataDir(String configured) {
    Path dir = Path.of(configured.isBlank() ? DEBIAN_DIR : configured);
    for (String f : IDX_FILES) {
      if (!Files.isReadable(dir.resolve(f))) {
        throw LetheInputException.of("config key 'bench.scale.fashion-mnist-dir': %s has no readable %s (the scale"
            + " suite needs the full Fashion-MNIST IDX files: set the key to their directory, or install Debian's"
            + " dataset-fashion-mnist package, which puts them in %s)", dir, f, DEBIAN_DIR);
      }
    }
    return dir;
  }

  /** Runs the suite for the bench stage: measurements to results.csv, its section to summary.md. */
  public static void run(BenchContext ctx) throws IOException, InterruptedException {
    java.net.URI out = ctx.output().uri();
    if (!"file".equals(out.getScheme())) {
      throw LetheInputException.of("--workdir %s: the scale suite runs stages in local JVMs and needs a local"
          + " directory", out);
    }
    ctx.addSection(run(ctx.spark(), ctx.config(), Path.of(out), ctx::record, ctx.job().args().overrides(),
        new Roofline()::gemmRate));
  }

  /**
   * Runs the suite under {@code dir} (runs/ holds the workdirs and each child's log) and returns the markdown
   * section of summary.md; {@code gemmRate} gives the double-precision GEMM rate (FLOP/s) with a number of threads.
   */
  static String run(SparkSession spark, LetheConfig config, Path dir, Recorder rec, List<String> userSets,
      IntToDoubleFunction gemmRate) throws IOException, InterruptedException {
    Settings s = Settings.of(config);
    List<SizeRun> runs = new ArrayList<>();
    for (int size : s.trainSizes()) {
      runs.add(runSize(spark, s, size, dir, rec, userSets));
    }
    SizeRun small = runs.get(0);
    SizeRun large = runs.get(runs.size() - 1);
    StringBuilder md = new StringBuilder("## Scale (ewc-influence identify)\n\n");
    md.append("| training rows | identify wall (s) | prepare on the driver, mostly the EWC update (s) |"
        + " scoring pass (s) | scoring (rows/s) | peak resident, identify (MB) |\n|---|---|---|---|---|---|\n");
    for (SizeRun r : runs) {
      md.append(String.format(Locale.ROOT, "| %d | %.1f | %.1f | %.1f | %.0f | %d |%n", r.trainRows(),
          r.identifySeconds(), r.prepareSeconds(), r.scoringPassSeconds(), r.trainRows() / r.scoringPassSeconds(),
          r.peakResidentMb()));
    }
    if (runs.size() > 1) {
      double dataRatio = (double) large.trainRows() / small.trainRows();
      double timeRatio = large.identifySeconds() / small.identifySeconds();
      double scoringRatio = large.scoringPassSeconds() / small.scoringPassSeconds();
      String setting = large.trainRows() + "/" + small.trainRows();
      rec.record(EXPERIMENT, setting, s.seed(), METHOD, "data_ratio", dataRatio, "x");
      rec.record(EXPERIMENT, setting, s.seed(), METHOD, "identify_time_ratio", timeRatio, "x");
      rec.record(EXPERIMENT, setting, s.seed(), METHOD, "scoring_pass_ratio", scoringRatio, "x");
      md.append(String.format(Locale.ROOT, "%nIdentify time, %d over %d rows (%.1fx the data): **%.2fx** (target"
          + " <= %.1f: %s); the scoring pass alone %.2fx.%n", large.trainRows(), small.trainRows(), dataRatio,
          timeRatio, RATIO_TARGET, timeRatio <= RATIO_TARGET ? "met" : "not met", scoringRatio));
    }

    // local[1] against local[2] on the smallest size
    double[] pass = new double[2];
    for (int cores = 1; cores <= 2; cores++) {
      ChildStage.Result r = ChildStage.run("identify", small.workdir(), "local[" + cores + "]",
          sets(s, small.size(), userSets), dir.resolve("runs/threads/identify-local" + cores + ".log"), true);
      Config prov = provenance(spark, small.workdir());
      pass[cores - 1] = prov.getDouble("scoring_pass_seconds");
      String setting = "train-" + small.trainRows() + "-local" + cores;
      rec.record(EXPERIMENT, setting, s.seed(), METHOD, "identify_seconds", r.seconds(), "s");
      rec.record(EXPERIMENT, setting, s.seed(), METHOD, "scoring_pass_seconds", pass[cores - 1], "s");
    }
    double speedup = pass[0] / pass[1];
    rec.record(EXPERIMENT, "train-" + small.trainRows() + "-local1/local2", s.seed(), METHOD, "scoring_speedup",
        speedup, "x");
    md.append(String.format(Locale.ROOT, "%nScoring pass on %d rows: local[1] %.1f s, local[2] %.1f s: speed-up"
        + " **%.2fx** on %d cores.%n", small.trainRows(), pass[0], pass[1], speedup,
        Runtime.getRuntime().availableProcessors()));

    // Spark against a plain loop, on the smallest size and on the largest: Spark's costs are partly fixed (task
    // start-up, reading the table), so both are shown. The fresh JVM's pass: the smallest size's local[2] run (its
    // provenance until the warm runs below), the largest size's local[*] identify run.
    md.append(String.format(Locale.ROOT, "%nSpark's overhead: the same scoring in a plain loop in one JVM (no Spark,"
        + " data already in memory, ND4J on all cores) against Spark's scoring pass (Parquet read, partitioning, tasks"
        + " with 1 ND4J thread each), both in this JVM (master %s) after %d untimed runs each; median of %d timed"
        + " runs.%n", spark.sparkContext().master(), s.overheadWarmups(), s.overheadRuns()));
    double smallWarm = overhead(spark, config, s, rec, small, pass[1], "local[2]", userSets, md);
    double largeWarm = runs.size() > 1
        ? overhead(spark, config, s, rec, large, large.scoringPassSeconds(), "local[*]", userSets, md) : smallWarm;

    md.append(String.format(Locale.ROOT, "%nRoofline (ewc-influence scoring rate over the double-precision GEMM rate"
        + " with as many threads, %dx%d, measured in this run; target >= %.0f%%):%n", Roofline.GEMM_SIZE,
        Roofline.GEMM_SIZE, 100 * Roofline.TARGET));
    md.append(roofline(spark, config, rec, s, small, smallWarm, gemmRate));
    if (runs.size() > 1) {
      md.append(roofline(spark, config, rec, s, large, largeWarm, gemmRate));
    }
    md.append(knnShapley(spark, s, rec, large, dir, userSets));
    md.append(confidentLearning(spark, s, rec, small, dir, userSets));
    return md.toString();
  }

  /**
   * identify with knn-shapley on the largest size's workdir, in a fresh JVM on {@code local[2]} (issue 33's target:
   * under {@value #KNN_TARGET_SECONDS} s on 2 cores): its wall time, its embedding pass and its values, recorded, and
   * the summary's paragraph.
   */
  private static String knnShapley(SparkSession spark, Settings s, Recorder rec, SizeRun run, Path dir,
      List<String> userSets) throws IOException, InterruptedException {
    List<String> sets = sets(s, run.size(), userSets, KNN);
    ChildStage.Result r = ChildStage.run("identify", run.workdir(), "local[2]", sets,
        dir.resolve("runs/knn-shapley/identify-local2.log"), true);
    Config prov = provenance(spark, run.workdir(), KNN);
    double embedding = prov.getDouble("diagnostics.embeddingMillis") / 1e3;
    double values = prov.getDouble("diagnostics.valueMillis") / 1e3;
    String setting = "train-" + run.trainRows() + "-local2";
    rec.record(EXPERIMENT, setting, s.seed(), KNN, "identify_seconds", r.seconds(), "s");
    rec.record(EXPERIMENT, setting, s.seed(), KNN, "embedding_seconds", embedding, "s");
    rec.record(EXPERIMENT, setting, s.seed(), KNN, "value_seconds", values, "s");
    rec.record(EXPERIMENT, setting, s.seed(), KNN, "query_rows", prov.getLong("query_rows"), "rows");
    rec.record(EXPERIMENT, setting, s.seed(), KNN, "peak_resident_mb", r.residentMb(), "MB");
    return String.format(Locale.ROOT, "%nknn-shapley on %d rows (local[2], %d failures in Fq): identify %.1f s, of"
        + " which the embedding pass %.1f s and the values %.1f s (target < %.0f s: %s).%n", run.trainRows(),
        prov.getLong("query_rows"), r.seconds(), embedding, values, KNN_TARGET_SECONDS,
        r.seconds() < KNN_TARGET_SECONDS ? "met" : "not met");
  }

  /**
   * identify with confident-learning on the smallest size's workdir, in a fresh JVM under {@code local[1]} and then
   * {@code local[2]}: the wall time of its k fold trainings (one Spark task each) and their parallel speed-up (issue
   * 31: confident-learning's trainings are reported apart from the other methods' identify times).
   */
  private static String confidentLearning(SparkSession spark, Settings s, Recorder rec, SizeRun run, Path dir,
      List<String> userSets) throws IOException, InterruptedException {
    List<String> sets = sets(s, run.size(), userSets, CONFIDENT_LEARNING);
    double[] folds = new double[2];
    int k = 0;
    for (int cores = 1; cores <= 2; cores++) {
      ChildStage.Result r = ChildStage.run("identify", run.workdir(), "local[" + cores + "]", sets,
          dir.resolve("runs/confident-learning/identify-local" + cores + ".log"), true);
      Config prov = provenance(spark, run.workdir(), CONFIDENT_LEARNING);
      folds[cores - 1] = prov.getDouble("artefacts.fold_training_seconds");
      k = prov.getInt("artefacts.folds");
      String setting = "train-" + run.trainRows() + "-local" + cores;
      rec.record(EXPERIMENT, setting, s.seed(), CONFIDENT_LEARNING, "identify_seconds", r.seconds(), "s");
      rec.record(EXPERIMENT, setting, s.seed(), CONFIDENT_LEARNING, "fold_training_seconds", folds[cores - 1], "s");
    }
    double speedup = folds[0] / folds[1];
    rec.record(EXPERIMENT, "train-" + run.trainRows() + "-local1/local2", s.seed(), CONFIDENT_LEARNING,
        "fold_training_speedup", speedup, "x");
    return String.format(Locale.ROOT, "%nconfident-learning on %d rows, %d fold trainings of %d epoch(s) each as"
        + " Spark tasks: local[1] %.1f s, local[2] %.1f s: speed-up **%.2fx** (%.2fx if every fold took as long: %d"
        + " tasks in %d waves on 2 cores against %d on 1).%n", run.trainRows(), k, s.trainEpochs(), folds[0], folds[1], speedup,
        (double) k / ((k + 1) / 2), k, (k + 1) / 2, k);
  }

  /**
   * Spark's scoring pass over a plain loop on one size's workdir, both warm (see the class comment), and the fresh
   * identify JVM's pass {@code freshPass} over the same loop: recorded, and the summary's sentence appended to
   * {@code md}. Returns the median of Spark's warm passes.
   */
  private static double overhead(SparkSession spark, LetheConfig config, Settings s, Recorder rec, SizeRun run,
      double freshPass, String freshMaster, List<String> userSets, StringBuilder md) {
    String setting = "train-" + run.trainRows();
    List<String> sets = sets(s, run.size(), userSets);
    int warmups = s.overheadWarmups();
    double[] sparkPass = new double[s.overheadRuns()];
    for (int i = 0; i < warmups + sparkPass.length; i++) {
      inProcess("identify", run.workdir(), sets, "--overwrite");
      if (i >= warmups) {
        sparkPass[i - warmups] = provenance(spark, run.workdir()).getDouble("scoring_pass_seconds");
        rec.record(EXPERIMENT, setting + "-warm-" + (i - warmups + 1), s.seed(), METHOD, "scoring_pass_seconds",
            sparkPass[i - warmups], "s");
      }
    }
    PlainLoop plainLoop = plainLoop(spark, run.workdir(), config.positiveInt("identify.batch-size"),
        config.positiveInt("data.num-classes"), warmups, s.overheadRuns());
    double[] loop = plainLoop.seconds();
    for (int i = 0; i < loop.length; i++) {
      rec.record(EXPERIMENT, setting + "-warm-" + (i + 1), s.seed(), METHOD, "plain_loop_seconds", loop[i], "s");
    }
    double sparkMedian = median(sparkPass);
    double plain = median(loop);
    double overhead = sparkMedian / plain;
    double fresh = freshPass / plain;
    rec.record(EXPERIMENT, setting, s.seed(), METHOD, "scoring_pass_warm_seconds", sparkMedian, "s");
    rec.record(EXPERIMENT, setting, s.seed(), METHOD, "plain_loop_seconds", plain, "s");
    rec.record(EXPERIMENT, setting, s.seed(), METHOD, "plain_loop_forward_passes_per_row",
        plainLoop.forwardPassesPerRow(), "count");
    rec.record(EXPERIMENT, setting, s.seed(), METHOD, "spark_overhead", overhead, "x");
    rec.record(EXPERIMENT, setting, s.seed(), METHOD, "spark_overhead_fresh_jvm", fresh, "x");
    md.append(String.format(Locale.ROOT, "%n%d rows: plain loop %.2f s (runs %s), Spark's pass %.2f s (runs %s):"
        + " overhead **%.2fx** (target <= %.1f: %s). The fresh identify JVM's %s pass, %.2f s, is %.2fx the loop.%n",
        run.trainRows(), plain, seconds(loop), sparkMedian, seconds(sparkPass), overhead, OVERHEAD_TARGET,
        overhead <= OVERHEAD_TARGET ? "met" : "not met", freshMaster, freshPass, fresh));
    return sparkMedian;
  }

  /**
   * The scoring roofline of one size: the fresh identify JVM's pass (local[*], all cores) and the median of the
   * warm passes in this JVM ({@code warmPass}, the master's parallelism), each over the GEMM rate with as many
   * threads: recorded, and the summary's line.
   */
  private static String roofline(SparkSession spark, LetheConfig config, Recorder rec, Settings s, SizeRun run,
      double warmPass, IntToDoubleFunction gemmRate) {
    String setting = "train-" + run.trainRows();
    Workdir w = Workdir.open(run.workdir().toString(), spark.sparkContext().hadoopConfiguration(), false);
    long flops = dev.lethe.bench.Flops.forwardPerExample(ModelFiles.load(w, WorkdirLayout.BASE_MODEL, "train"));
    int taskThreads = config.nonNegativeInt("spark.nd4j-task-threads");
    // the fresh run's provenance (taken when it ran), and the last warm run's, which is the workdir's now
    Config fresh = run.provenance();
    Config warm = provenance(spark, run.workdir());
    int freshThreads = Roofline.scoringThreads(fresh, Runtime.getRuntime().availableProcessors(), taskThreads);
    int warmThreads = Roofline.scoringThreads(warm, spark.sparkContext().defaultParallelism(), taskThreads);
    double freshRate = Roofline.scoringRate(fresh, flops, run.scoringPassSeconds());
    double warmRate = Roofline.scoringRate(warm, flops, warmPass);
    double freshGemm = gemmRate.applyAsDouble(freshThreads);
    double warmGemm = gemmRate.applyAsDouble(warmThreads);
    rec.record(EXPERIMENT, setting, s.seed(), METHOD, "forward_flops_per_example", flops, "FLOP");
    rec.record(EXPERIMENT, setting, s.seed(), METHOD, "forward_passes_per_row", Roofline.forwardPassesPerRow(fresh),
        "count");
    rec.record(EXPERIMENT, setting, s.seed(), METHOD, "scoring_flops_per_second", freshRate, "FLOP/s");
    rec.record(EXPERIMENT, setting, s.seed(), METHOD, "gemm_flops_per_second", freshGemm, "FLOP/s");
    rec.record(EXPERIMENT, setting, s.seed(), METHOD, "roofline_threads", freshThreads, "count");
    rec.record(EXPERIMENT, setting, s.seed(), METHOD, "roofline_fraction", freshRate / freshGemm, "fraction");
    rec.record(EXPERIMENT, setting, s.seed(), METHOD, "scoring_flops_per_second_warm", warmRate, "FLOP/s");
    rec.record(EXPERIMENT, setting, s.seed(), METHOD, "gemm_flops_per_second_warm", warmGemm, "FLOP/s");
    rec.record(EXPERIMENT, setting, s.seed(), METHOD, "roofline_threads_warm", warmThreads, "count");
    rec.record(EXPERIMENT, setting, s.seed(), METHOD, "roofline_fraction_warm", warmRate / warmGemm, "fraction");
    String jit = fresh.hasPath(Roofline.JIT_SECONDS) ? String.format(Locale.ROOT, ", %.2f s of JIT compilation"
        + " during it", fresh.getDouble(Roofline.JIT_SECONDS)) : "";
    return String.format(Locale.ROOT, "- %d rows x %d forward pass(es) x %d FLOP: the fresh identify JVM's pass"
        + " (%.2f s%s) %.2f GFLOP/s, **%.1f%%** of the %d-thread GEMM rate (%.2f GFLOP/s); warm (%.2f s) %.2f"
        + " GFLOP/s, **%.1f%%** of the %d-thread rate (%.2f GFLOP/s).%n", run.trainRows(),
        Roofline.forwardPassesPerRow(fresh), flops, run.scoringPassSeconds(), jit, freshRate / 1e9,
        100 * freshRate / freshGemm, freshThreads, freshGemm / 1e9, warmPass, warmRate / 1e9,
        100 * warmRate / warmGemm, warmThreads, warmGemm / 1e9);
  }

  /** The median (the mean of the middle two for an even count). */
  static double median(double[] v) {
    double[] c = v.clone();
    java.util.Arrays.sort(c);
    int m = c.length / 2;
    return c.length % 2 == 1 ? c[m] : (c[m - 1] + c[m]) / 2;
  }

  private static String seconds(double[] v) {
    StringBuilder b = new StringBuilder();
    for (double x : v) {
      b.append(b.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.2f", x));
    }
    return b.toString();
  }

  /** prepare -> identify for one training-set size, each stage in its own JVM. */
  private static SizeRun runSize(SparkSession spark, Settings s, int size, Path dir, Recorder rec,
      List<String> userSets) throws IOException, InterruptedException {
    Path wd = dir.resolve("runs/train-" + size);
    List<String> sets = sets(s, size, userSets);
    ChildStage.Result identify = null;
    long peak = -1;
    for (String stage : STAGES) {
      String setting = "train-" + size;
      if (!s.isolateStages() && !stage.equals("identify")) {
        rec.record(EXPERIMENT, setting, s.seed(), stage, "stage_seconds", inProcess(stage, wd, sets), "s");
        continue;
      }
      ChildStage.Result r = ChildStage.run(stage, wd, "local[*]", sets, wd.resolve("logs/" + stage + ".log"), false);
      rec.record(EXPERIMENT, setting, s.seed(), stage, "stage_seconds", r.seconds(), "s");
      rec.record(EXPERIMENT, setting, s.seed(), stage, "peak_resident_mb", r.residentMb(), "MB");
      rec.record(EXPERIMENT, setting, s.seed(), stage, "peak_heap_mb", r.heapMb(), "MB");
      if (stage.equals("identify")) {
        identify = r;
        peak = r.residentMb();
      }
    }
    Config prov = provenance(spark, wd);
    long rows = prov.getLong("training_rows");
    String setting = "train-" + rows;
    rec.record(EXPERIMENT, setting, s.seed(), METHOD, "training_rows", rows, "rows");
    rec.record(EXPERIMENT, setting, s.seed(), METHOD, "identify_seconds", identify.seconds(), "s");
    rec.record(EXPERIMENT, setting, s.seed(), METHOD, "prepare_seconds", prov.getDouble("prepare_seconds"), "s");
    rec.record(EXPERIMENT, setting, s.seed(), METHOD, "scoring_pass_seconds", prov.getDouble("scoring_pass_seconds"),
        "s");
    return new SizeRun(size, rows, wd, identify.seconds(), prov.getDouble("prepare_seconds"),
        prov.getDouble("scoring_pass_seconds"), peak, prov);
  }

  /**
   * Runs a stage in this JVM and session (bench.scale.isolate-stages = false: no JVM start-up, no peak memory of its
   * own; and the warm identify runs of the overhead), with {@code extra} arguments; returns its wall time.
   */
  private static double inProcess(String stage, Path wd, List<String> sets, String... extra) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    List<String> args = new ArrayList<>(ChildStage.args(stage, wd, sets));
    args.addAll(List.of(extra));
    long t0 = System.nanoTime();
    int code = StageRunner.run(null, args.toArray(new String[0]), new Console(
        new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(out, true, StandardCharsets.UTF_8)));
    if (code != 0) {
      throw new IllegalStateException("bench: stage " + stage + " on " + wd + " failed with exit code " + code + ": "
          + out.toString(StandardCharsets.UTF_8));
    }
    return (System.nanoTime() - t0) / 1e9;
  }

  /** The overrides of a size's runs: the full data from the IDX files, subsampled to {@code size}. */
  static List<String> sets(Settings s, int size, List<String> userSets) {
    List<String> sets = new ArrayList<>(userSets);
    Path d = s.dataDir();
    sets.addAll(List.of("data.source=idx", "data.idx.train-images=" + d.resolve(IDX_FILES[0]),
        "data.idx.train-labels=" + d.resolve(IDX_FILES[1]), "data.idx.test-images=" + d.resolve(IDX_FILES[2]),
        "data.idx.test-labels=" + d.resolve(IDX_FILES[3]), "data.train-size=" + size,
        "data.test-size=" + s.testSize(), "model.architecture=" + s.architecture(),
        "train.max-epochs=" + s.trainEpochs(), "identify.method=" + METHOD));
    return sets;
  }

  /** {@link #sets} with {@code method} as the identification method. */
  static List<String> sets(Settings s, int size, List<String> userSets, String method) {
    return sets(s, size, userSets).stream()
        .map(x -> x.startsWith("identify.method=") ? "identify.method=" + method : x).toList();
  }

  private static Config provenance(SparkSession spark, Path wd) {
    return provenance(spark, wd, METHOD);
  }

  /** The provenance of {@code method}'s ranking table in workdir {@code wd}. */
  private static Config provenance(SparkSession spark, Path wd, String method) {
    return RankingTables.provenance(Workdir.open(wd.toString(), spark.sparkContext().hadoopConfiguration(), false),
        method);
  }

  /**
   * Scores the workdir's training rows with theta_hat and the theta* identify wrote, in blocks as identify does, in
   * one loop on this thread with ND4J's default threads, and checks every score against the workdir's ranking
   * table (1e-9 relative), so both sides of the comparison did the same work: like identify, it looks
   * log p(z|theta_hat) up in the fisher stage's fisher/logp.bin when the workdir has one (one forward pass per row),
   * else computes it (two). The models and tables are read once; the loop runs {@code warmups} times untimed, then
   * {@code runs} times timed. Returns the seconds of each timed loop (opening the scorer included, reading the
   * table not) and the forward passes it ran per row.
   */
  public static PlainLoop plainLoop(SparkSession spark, Path wd, int batchSize, int numClasses, int warmups,
      int runs) {
    if (warmups < 0 || runs < 1) {
      throw new IllegalArgumentException("warmups must be >= 0 and runs >= 1, got " + warmups + " and " + runs);
    }
    Workdir w = Workdir.open(wd.toString(), spark.sparkContext().hadoopConfiguration(), false);
    MultiLayerNetwork base = ModelFiles.load(w, WorkdirLayout.BASE_MODEL, "train");
    MultiLayerNetwork updated = ModelFiles.load(w, WorkdirLayout.EWC_UPDATED_MODEL, "identify");
    String trainPath = w.path(WorkdirLayout.TRAIN).toString();
    ExampleSet train = ExampleTables.collect(ExampleTables.read(spark, trainPath, ExampleTables.DATA,
        WorkdirLayout.TRAIN), true, ModelFiles.numInputs(base), numClasses, trainPath);
    dev.lethe.math.RowLogLikelihoods logp = FisherFiles.readLogLik(w, dev.lethe.math.NetworkBytes.fingerprint(base),
        train.size()).orElse(null);
    ScorerSpec spec = EwcInfluence.scorer(base, updated, logp, batchSize);
    int block = 4 * batchSize;
    try (Scorer warm = spec.open()) {
      warm.score(train.select(IntStream.range(0, Math.min(block, train.size())).toArray()));
    }
    Map<Long, Double> identified = new HashMap<>();
    for (Row r : rankingScores(spark, w.path(WorkdirLayout.ranking(METHOD)).toString())) {
      identified.put(r.getLong(0), r.getDouble(1));
    }
    double[] seconds = new double[runs];
    double[] scores = new double[train.size()];
    for (int run = 0; run < warmups + runs; run++) {
      long t0 = System.nanoTime();
      try (Scorer scorer = spec.open()) {
        for (int from = 0; from < train.size(); from += block) {
          int to = Math.min(from + block, train.size());
          System.arraycopy(scorer.score(train.select(IntStream.range(from, to).toArray())).score(), 0, scores, from,
              to - from);
        }
      }
      if (run >= warmups) {
        seconds[run - warmups] = (System.nanoTime() - t0) / 1e9;
      }
      for (int i = 0; i < scores.length; i++) {
        Double other = identified.get(train.id(i));
        if (other == null || Math.abs(other - scores[i]) > 1e-9 * Math.max(1e-300, Math.abs(scores[i]))) {
          throw new IllegalStateException(String.format(Locale.ROOT, "bench: the plain loop scored id %d %s,"
              + " identify %s", train.id(i), scores[i], other));
        }
      }
    }
    return new PlainLoop(seconds, EwcInfluence.forwardPassesPerRow(logp));
  }

  /** What {@link #plainLoop} measured: the seconds of each timed loop. */
  public record PlainLoop(double[] seconds, int forwardPassesPerRow) {}

  private static List<Row> rankingScores(SparkSession spark, String table) {
    return spark.read().parquet(table).select("id", "score").collectAsList();
  }
}
