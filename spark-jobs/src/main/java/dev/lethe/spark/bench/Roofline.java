package dev.lethe.spark.bench;

import com.typesafe.config.Config;
import dev.lethe.influence.EwcInfluence;
import dev.lethe.influence.RandomInfluence;
import dev.lethe.math.Flops;
import dev.lethe.math.GemmRate;
import dev.lethe.spark.IdentifyJob;
import dev.lethe.spark.exec.TaskThreads;
import dev.lethe.spark.io.ModelFiles;
import dev.lethe.spark.io.Workdir;
import java.util.HashMap;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The scoring roofline: EWC-influence scores every training example with forward passes in double precision: one
 * (log p(z|theta*)) when the fisher stage recorded log p(z|theta_hat), else two (both; the identify provenance's
 * diagnostics.forwardPassesPerRow says which), so its scoring rate is rows x passes x forward FLOPs /
 * scoring_pass_seconds
 * (the identify provenance's wall time of the scoring pass: reading the table, its partitioning (a shuffle only when
 * the table has fewer partitions than scoring uses) and the forward passes; ranking and writing excluded, so still a
 * lower bound on the forward rate). It is compared with ND4J's double-precision GEMM rate measured in the same bench run with as many threads as scoring used
 * (concurrent scoring tasks x spark.nd4j-task-threads). When the run also has the random ranking, whose scoring pass
 * reads and partitions the same table without a model, the forward rate without that part is recorded as well (the
 * target is on the whole pass).
 */
final class Roofline {
  static final String EXPERIMENT = "roofline";
  /** Square GEMM size and minimum timing per measurement. */
  static final int GEMM_SIZE = 512;
  static final double GEMM_SECONDS = 2.0;
  /** The target: scoring at least half the GEMM rate. */
  static final double TARGET = 0.5;

  private final Map<Integer, Double> gemmByThreads = new HashMap<>();

  /** Measures the roofline of the ewc-influence table of {@code run} and records it. */
  void measure(BenchContext ctx, String setting, long seed, Workdir run) {
    var net = ModelFiles.load(run, ModelFiles.BASE, "train");
    long flops = Flops.forwardPerExample(net);
    Config p = IdentifyJob.provenance(run, EwcInfluence.NAME);
    long rows = p.getLong("training_rows");
    double seconds = p.getDouble("scoring_pass_seconds");
    int partitions = p.getInt("partitions");
    int taskThreads = ctx.config().nonNegativeInt("spark.nd4j-task-threads");
    int cores = Runtime.getRuntime().availableProcessors();
    int concurrent = Math.min(partitions, Math.max(1, ctx.spark().sparkContext().defaultParallelism()));
    int threads = concurrent * (taskThreads > 0 ? taskThreads : cores);
    int passes = p.hasPath("diagnostics.forwardPassesPerRow") ? p.getInt("diagnostics.forwardPassesPerRow") : 2;
    double scoring = rows * (double) passes * flops / seconds;
    double gemm = gemmByThreads.computeIfAbsent(threads, Roofline::gemm);
    String m = EwcInfluence.NAME;
    ctx.record(EXPERIMENT, setting, seed, m, "forward_flops_per_example", flops, "FLOP");
    ctx.record(EXPERIMENT, setting, seed, m, "scoring_flops_per_second", scoring, "FLOP/s");
    ctx.record(EXPERIMENT, setting, seed, m, "gemm_flops_per_second", gemm, "FLOP/s");
    ctx.record(EXPERIMENT, setting, seed, m, "threads", threads, "count");
    ctx.record(EXPERIMENT, setting, seed, m, "forward_passes_per_row", passes, "count");
    ctx.record(EXPERIMENT, setting, seed, m, "roofline_fraction", scoring / gemm, "fraction");
    ctx.console().line("bench: roofline: ewc-influence scored %d rows x %d x %d FLOP in %.2f s = %.2f GFLOP/s;"
        + " ND4J double GEMM %dx%d with %d thread(s) %.2f GFLOP/s (OpenBLAS kernels: %s): %.1f%% (target %.0f%%)", rows,
        passes, flops, seconds, scoring / 1e9, GEMM_SIZE, GEMM_SIZE, threads, gemm / 1e9, GemmRate.openBlasKernels(),
        100 * scoring / gemm, 100 * TARGET);
    // the same pass of the random ranking (same table, read and partitioned alike, no model): what is left is the
    // forward passes themselves (and the scorer's set-up)
    if (run.exists(IdentifyJob.culprits(RandomInfluence.NAME) + Workdir.PROVENANCE_SUFFIX)) {
      double io = IdentifyJob.provenance(run, RandomInfluence.NAME).getDouble("scoring_pass_seconds");
      if (io < seconds) {
        double forward = rows * (double) passes * flops / (seconds - io);
        ctx.record(EXPERIMENT, setting, seed, m, "read_partition_seconds", io, "s");
        ctx.record(EXPERIMENT, setting, seed, m, "forward_flops_per_second", forward, "FLOP/s");
        ctx.record(EXPERIMENT, setting, seed, m, "forward_fraction", forward / gemm, "fraction");
        ctx.console().line("bench: roofline without reading and partitioning the table (%.2f s in the random ranking's"
            + " pass): %.2f GFLOP/s, %.1f%% of the GEMM rate", io, forward / 1e9, 100 * forward / gemm);
      }
    }
  }

  private static double gemm(int threads) {
    TaskThreads.Setting saved = TaskThreads.current();
    try {
      TaskThreads.limit(threads);
      return GemmRate.flopsPerSecond(DataType.DOUBLE, GEMM_SIZE, GEMM_SECONDS);
    } finally {
      TaskThreads.restore(saved);
    }
  }
}
