package dev.lethe.bench;

import com.typesafe.config.Config;
import dev.lethe.influence.EwcInfluence;
import dev.lethe.influence.RandomInfluence;
import dev.lethe.spark.exec.TaskThreads;
import dev.lethe.spark.io.RankingTables;
import dev.lethe.spark.io.ModelFiles;
import dev.lethe.spark.io.Workdir;
import dev.lethe.spark.io.WorkdirLayout;
import java.util.HashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The scoring roofline: EWC-influence scores every training example with forward passes in double precision: one
 * (log p(z|theta*)) when the fisher stage recorded log p(z|theta_hat), else two (both; the identify provenance's
 * diagnostics.forwardPassesPerRow says which), so its scoring rate is rows x passes x forward FLOPs /
 * scoring_pass_seconds (the identify provenance's wall time of the scoring pass: reading the table, its partitioning
 * (a shuffle only when the table has fewer partitions than scoring uses) and the forward passes; ranking and writing
 * excluded, so still a lower bound on the forward rate). It is compared with ND4J's double-precision GEMM rate
 * measured in the same bench run with as many threads as scoring used (concurrent scoring tasks x
 * spark.nd4j-task-threads). When the run also has the random ranking, whose scoring pass reads and partitions the
 * same table without a model, the forward rate without that part is recorded as well (the target is on the whole
 * pass).
 *
 * <p>The GEMM rate with N threads is the better of one product on N BLAS threads and N concurrent single-threaded
 * products (the way N single-threaded tasks score), both recorded: OpenBLAS's threaded product on the 2-core CI
 * machine ran at 105-107 GFLOP/s in some processes and 122-123 in others, which made the roofline depend on the
 * process that measured it, while the concurrent products reached 123-124 every time ({@link
 * GemmRate#concurrentFlopsPerSecond}).
 *
 * <p>The JIT compilation time of the JVM during the pass (the identify provenance's scoring_pass_jit_seconds) is
 * recorded beside it: in local mode the compiler threads take cores from the tasks, and a pass of half a second in a
 * young JVM loses a good part of its time to them. The scale suite measures the same roofline over longer passes
 * ({@link #scoringRate}, {@link #scoringThreads}, {@link #gemmRate}).
 */
final class Roofline {
  static final String EXPERIMENT = "roofline";
  /** Square GEMM size and minimum timing per measurement. */
  static final int GEMM_SIZE = 512;
  static final double GEMM_SECONDS = 2.0;
  /** The target: scoring at least half the GEMM rate. */
  static final double TARGET = 0.5;

  /** The identify provenance's JIT compilation time during the scoring pass (absent when the JVM has none). */
  static final String JIT_SECONDS = "scoring_pass_jit_seconds";

  private final Map<Integer, Gemm> gemmByThreads = new HashMap<>();

  /**
   * The GEMM rates with a number of threads, in FLOP/s: one product on that many BLAS threads, and that many
   * concurrent single-threaded products (the same measurement with one thread).
   */
  record Gemm(double threaded, double concurrent) {
    /** The reference: the better of the two. */
    double best() {
      return Math.max(threaded, concurrent);
    }
  }

  /** Measures the roofline of the ewc-influence table of {@code run} and records it. */
  void measure(BenchContext ctx, String setting, long seed, Workdir run) {
    var net = ModelFiles.load(run, WorkdirLayout.BASE_MODEL, "train");
    long flops = Flops.forwardPerExample(net);
    Config p = RankingTables.provenance(run, EwcInfluence.NAME);
    long rows = p.getLong("training_rows");
    double seconds = p.getDouble("scoring_pass_seconds");
    int threads = scoringThreads(p, ctx.spark().sparkContext().defaultParallelism(),
        ctx.config().nonNegativeInt("spark.nd4j-task-threads"));
    int passes = forwardPassesPerRow(p);
    double scoring = scoringRate(p, flops, seconds);
    Gemm rates = gemm(threads);
    double gemm = rates.best();
    String m = EwcInfluence.NAME;
    ctx.record(EXPERIMENT, setting, seed, m, "forward_flops_per_example", flops, "FLOP");
    ctx.record(EXPERIMENT, setting, seed, m, "scoring_flops_per_second", scoring, "FLOP/s");
    ctx.record(EXPERIMENT, setting, seed, m, "gemm_flops_per_second", gemm, "FLOP/s");
    ctx.record(EXPERIMENT, setting, seed, m, "gemm_threaded_flops_per_second", rates.threaded(), "FLOP/s");
    ctx.record(EXPERIMENT, setting, seed, m, "gemm_concurrent_flops_per_second", rates.concurrent(), "FLOP/s");
    ctx.record(EXPERIMENT, setting, seed, m, "threads", threads, "count");
    ctx.record(EXPERIMENT, setting, seed, m, "forward_passes_per_row", passes, "count");
    ctx.record(EXPERIMENT, setting, seed, m, "roofline_fraction", scoring / gemm, "fraction");
    String jit = "";
    if (p.hasPath(JIT_SECONDS)) {
      ctx.record(EXPERIMENT, setting, seed, m, JIT_SECONDS, p.getDouble(JIT_SECONDS), "s");
      jit = String.format(java.util.Locale.ROOT, "; JIT compilation during the pass %.2f s", p.getDouble(JIT_SECONDS));
    }
    ctx.console().line("bench: roofline: ewc-influence scored %d rows x %d x %d FLOP in %.2f s = %.2f GFLOP/s;"
        + " ND4J double GEMM %dx%d with %d thread(s) %.2f GFLOP/s (one product on %d BLAS threads %.2f, %d concurrent"
        + " single-threaded products %.2f; OpenBLAS kernels: %s): %.1f%% (target %.0f%%)%s",
        rows, passes, flops, seconds, scoring / 1e9, GEMM_SIZE, GEMM_SIZE, threads, gemm / 1e9, threads,
        rates.threaded() / 1e9, threads, rates.concurrent() / 1e9, GemmRate.openBlasKernels(), 100 * scoring / gemm,
        100 * TARGET, jit);
    // the same pass of the random ranking (same table, read and partitioned alike, no model): what is left is the
    // forward passes themselves (and the scorer's set-up)
    if (run.exists(WorkdirLayout.ranking(RandomInfluence.NAME) + Workdir.PROVENANCE_SUFFIX)) {
      double io = RankingTables.provenance(run, RandomInfluence.NAME).getDouble("scoring_pass_seconds");
      if (io < seconds) {
        double forward = scoringRate(p, flops, seconds - io);
        ctx.record(EXPERIMENT, setting, seed, m, "read_partition_seconds", io, "s");
        ctx.record(EXPERIMENT, setting, seed, m, "forward_flops_per_second", forward, "FLOP/s");
        ctx.record(EXPERIMENT, setting, seed, m, "forward_fraction", forward / gemm, "fraction");
        ctx.console().line("bench: roofline without reading and partitioning the table (%.2f s in the random ranking's"
            + " pass): %.2f GFLOP/s, %.1f%% of the GEMM rate", io, forward / 1e9, 100 * forward / gemm);
      }
    }
  }

  /**
   * The ND4J double-precision {@value #GEMM_SIZE}-square GEMM reference with {@code threads} threads in FLOP/s
   * ({@link Gemm#best}), measured once per thread count by this instance.
   */
  double gemmRate(int threads) {
    return gemm(threads).best();
  }

  /** The GEMM rates with {@code threads} threads, each measured for {@value #GEMM_SECONDS} s at least, once. */
  Gemm gemm(int threads) {
    return gemmByThreads.computeIfAbsent(threads, Roofline::measureGemm);
  }

  /**
   * The threads an identify run scored with (its provenance {@code p}): the tasks that ran at once (its partitions,
   * at most the master's {@code parallelism}) times each task's ND4J threads ({@code spark.nd4j-task-threads}, 0 =
   * the cores).
   */
  static int scoringThreads(Config p, int parallelism, int taskThreads) {
    int concurrent = Math.min(p.getInt("partitions"), Math.max(1, parallelism));
    return concurrent * (taskThreads > 0 ? taskThreads : Runtime.getRuntime().availableProcessors());
  }

  /**
   * The forward passes per training row of an ewc-influence identify run (its provenance {@code p}): 1 when it took
   * log p(z|theta_hat) from the fisher stage, else 2.
   */
  static int forwardPassesPerRow(Config p) {
    return p.hasPath("diagnostics.forwardPassesPerRow") ? p.getInt("diagnostics.forwardPassesPerRow") : 2;
  }

  /**
   * The scoring rate in FLOP/s of an ewc-influence identify run (its provenance {@code p}) whose scoring pass took
   * {@code seconds}: training rows x forward passes per row x {@code flops} (per forward pass) / seconds.
   */
  static double scoringRate(Config p, long flops, double seconds) {
    return p.getLong("training_rows") * (double) forwardPassesPerRow(p) * flops / seconds;
  }

  private static Gemm measureGemm(int threads) {
    TaskThreads.Setting saved = TaskThreads.current();
    try {
      TaskThreads.limit(threads);
      double threaded = GemmRate.flopsPerSecond(DataType.DOUBLE, GEMM_SIZE, GEMM_SECONDS);
      double concurrent = threads == 1 ? threaded
          : GemmRate.concurrentFlopsPerSecond(DataType.DOUBLE, GEMM_SIZE, GEMM_SECONDS, threads);
      return new Gemm(threaded, concurrent);
    } finally {
      TaskThreads.restore(saved);
    }
  }
}
