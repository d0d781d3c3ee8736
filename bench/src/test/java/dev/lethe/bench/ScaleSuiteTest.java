package dev.lethe.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.lethe.LetheInputException;
import dev.lethe.config.LetheConfig;
import dev.lethe.spark.SharedSpark;
import dev.lethe.spark.report.ReportCharts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Test;

/**
 * The scale suite end to end on the bundled subset's IDX files (the same format and names as the full Fashion-MNIST
 * files the real suite reads): two tiny sizes of an MLP, every stage in a child JVM.
 */
class ScaleSuiteTest {
  /** The bundled IDX subset in the source tree (3000 training / 2000 test images). */
  private static final Path BUNDLED = Path.of(System.getProperty("lethe.repo.root", ".."),
      "common/src/main/resources/dev/lethe/data/fashion-mnist");

  record Measured(String experiment, String setting, String method, String metric, double value) {}

  @Test
  void measuresBothSizesCoresAndThePlainLoop() throws Exception {
    Path base = Files.createDirectories(Path.of(System.getProperty("lethe.test.tmp",
        System.getProperty("java.io.tmpdir"))));
    Path dir = Files.createTempDirectory(base, "scale");
    List<String> sets = List.of("model.architecture=mlp", "noise.label-flip.rate=0.3");
    LetheConfig config = LetheConfig.load(List.of(), List.of("bench.scale.fashion-mnist-dir=" + BUNDLED,
        "bench.scale.train-sizes=[400, 200]", "bench.scale.test-size=300", "model.architecture=mlp",
        "bench.scale.isolate-stages=false", "bench.scale.overhead-warmups=1", "bench.scale.overhead-runs=2"));
    List<Measured> got = new ArrayList<>();
    // a stand-in GEMM rate (1 GFLOP/s per thread), so the roofline's arithmetic can be checked exactly
    List<Integer> gemmThreads = new ArrayList<>();
    String md = ScaleSuite.run(SharedSpark.get(), config, dir, (e, s, seed, m, metric, v, u) ->
        got.add(new Measured(e, s, m, metric, v)), sets, threads -> {
          gemmThreads.add(threads);
          return threads * 1e9;
        });

    for (String size : List.of("train-200", "train-400")) {
      for (String stage : ScaleSuite.STAGES) {
        assertThat(value(got, size, stage, "stage_seconds")).as("%s %s", size, stage).isPositive();
      }
      // identify runs in a JVM of its own (the earlier stages here in the test's, as isolate-stages = false)
      assertThat(value(got, size, "identify", "peak_resident_mb")).as(size).isGreaterThan(100);
      assertThat(value(got, size, "identify", "peak_heap_mb")).as(size).isPositive();
      assertThat(got.stream().filter(m -> m.setting().equals(size) && m.metric().equals("peak_resident_mb")))
          .hasSize(1);
      assertThat(dir.resolve("runs/" + size + "/rankings/ewc-influence.parquet/_SUCCESS")).exists();
    }
    assertThat(value(got, "train-200", "ewc-influence", "training_rows")).isEqualTo(200);
    assertThat(value(got, "train-400", "ewc-influence", "training_rows")).isEqualTo(400);
    double ratio = value(got, "400/200", "ewc-influence", "identify_time_ratio");
    assertThat(ratio).isCloseTo(value(got, "train-400", "ewc-influence", "identify_seconds")
        / value(got, "train-200", "ewc-influence", "identify_seconds"), within(1e-12));
    assertThat(value(got, "400/200", "ewc-influence", "data_ratio")).isEqualTo(2.0);
    double p1 = value(got, "train-200-local1", "ewc-influence", "scoring_pass_seconds");
    double p2 = value(got, "train-200-local2", "ewc-influence", "scoring_pass_seconds");
    assertThat(value(got, "train-200-local1/local2", "ewc-influence", "scoring_speedup")).isCloseTo(p1 / p2,
        within(1e-12));
    // Spark's overhead: medians of 2 timed warm runs of each side (the mean of the two), on both sizes; the fresh
    // JVM's pass (local[2] on the smallest size, the local[*] identify run on the largest) over the same loop
    for (String size : List.of("train-200", "train-400")) {
      double[] warmSpark = new double[2];
      double[] warmLoop = new double[2];
      for (int run = 1; run <= 2; run++) {
        warmSpark[run - 1] = value(got, size + "-warm-" + run, "ewc-influence", "scoring_pass_seconds");
        warmLoop[run - 1] = value(got, size + "-warm-" + run, "ewc-influence", "plain_loop_seconds");
        assertThat(warmSpark[run - 1]).as("%s run %d", size, run).isPositive();
        assertThat(warmLoop[run - 1]).as("%s run %d", size, run).isPositive();
      }
      double spark = (warmSpark[0] + warmSpark[1]) / 2;
      double plain = (warmLoop[0] + warmLoop[1]) / 2;
      assertThat(value(got, size, "ewc-influence", "scoring_pass_warm_seconds")).isCloseTo(spark, within(1e-12));
      assertThat(value(got, size, "ewc-influence", "plain_loop_seconds")).isCloseTo(plain, within(1e-12));
      assertThat(value(got, size, "ewc-influence", "spark_overhead")).as(size).isCloseTo(spark / plain,
          within(1e-12));
      double fresh = size.equals("train-200") ? p2
          : value(got, "train-400", "ewc-influence", "scoring_pass_seconds");
      assertThat(value(got, size, "ewc-influence", "spark_overhead_fresh_jvm")).as(size).isCloseTo(fresh / plain,
          within(1e-12));
      // the warm identify runs rewrote the workdir's culprits, which the plain loop checked every score against
      assertThat(dir.resolve("runs/" + size + "/rankings/ewc-influence.parquet/_SUCCESS")).exists();
    }
    // the roofline of each size: the MLP's forward FLOPs over the fresh JVM's pass and over the warm median, each
    // against the GEMM rate with the threads that scored
    int cores = Runtime.getRuntime().availableProcessors();
    for (String size : List.of("train-200", "train-400")) {
      var w = dev.lethe.spark.io.Workdir.open(dir.resolve("runs/" + size).toString(),
          SharedSpark.get().sparkContext().hadoopConfiguration(), false);
      long flops = dev.lethe.bench.Flops.forwardPerExample(dev.lethe.spark.io.ModelFiles.load(w,
          dev.lethe.spark.io.WorkdirLayout.BASE_MODEL, "train"));
      assertThat(value(got, size, "ewc-influence", "forward_flops_per_example")).isEqualTo(flops);
      double passes = value(got, size, "ewc-influence", "forward_passes_per_row");
      assertThat(passes).isEqualTo(dev.lethe.spark.io.RankingTables.provenance(w, "ewc-influence")
          .getInt("diagnostics.forwardPassesPerRow"));
      double rows = value(got, size, "ewc-influence", "training_rows");
      double freshRate = rows * passes * flops / value(got, size, "ewc-influence", "scoring_pass_seconds");
      double warmRate = rows * passes * flops / value(got, size, "ewc-influence", "scoring_pass_warm_seconds");
      double threads = value(got, size, "ewc-influence", "roofline_threads");
      double warmThreads = value(got, size, "ewc-influence", "roofline_threads_warm");
      assertThat(threads).as(size).isBetween(1.0, (double) cores);
      assertThat(warmThreads).as(size).isBetween(1.0, (double) cores);
      assertThat(value(got, size, "ewc-influence", "scoring_flops_per_second")).isCloseTo(freshRate,
          within(1e-9 * freshRate));
      assertThat(value(got, size, "ewc-influence", "scoring_flops_per_second_warm")).isCloseTo(warmRate,
          within(1e-9 * warmRate));
      assertThat(value(got, size, "ewc-influence", "gemm_flops_per_second")).isEqualTo(threads * 1e9);
      assertThat(value(got, size, "ewc-influence", "gemm_flops_per_second_warm")).isEqualTo(warmThreads * 1e9);
      assertThat(value(got, size, "ewc-influence", "roofline_fraction")).isCloseTo(freshRate / (threads * 1e9),
          within(1e-12));
      assertThat(value(got, size, "ewc-influence", "roofline_fraction_warm")).isCloseTo(
          warmRate / (warmThreads * 1e9), within(1e-12));
      assertThat(md).contains(String.format(java.util.Locale.ROOT, "- %d rows x %d forward pass(es) x %d FLOP",
          (long) rows, (int) passes, flops));
    }
    // confident-learning's 5 fold trainings on the smallest size, under local[1] and local[2]
    double f1 = value(got, "train-200-local1", "confident-learning", "fold_training_seconds");
    double f2 = value(got, "train-200-local2", "confident-learning", "fold_training_seconds");
    assertThat(f1).isPositive();
    assertThat(f2).isPositive();
    assertThat(value(got, "train-200-local1/local2", "confident-learning", "fold_training_speedup"))
        .isCloseTo(f1 / f2, within(1e-12));
    assertThat(dir.resolve("runs/train-200/rankings/confident-learning.parquet/_SUCCESS")).exists();
    assertThat(md).contains("confident-learning on 200 rows, 5 fold trainings of 1 epoch(s) each")
        .contains("1.67x if every fold took as long: 5 tasks in 3 waves on 2 cores against 5 on 1");
    assertThat(gemmThreads).hasSize(4);
    assertThat(md).contains("Roofline (ewc-influence scoring rate over the double-precision GEMM rate");
    assertThat(ScaleSuite.median(new double[] {3, 1, 2})).isEqualTo(2);
    assertThat(ScaleSuite.median(new double[] {4, 1, 3, 2})).isEqualTo(2.5);
    assertThat(dir.resolve("runs/threads/identify-local1.log")).content().contains("lethe identify: finished in");
    assertThat(md).contains("| 200 |").contains("| 400 |").contains("speed-up").contains("overhead");
    System.err.println(md);

    // the suite's plot, from the same measurements as results.csv holds them
    org.apache.hadoop.fs.Path csv = new org.apache.hadoop.fs.Path(dir.resolve("results.csv").toUri());
    try (BenchResults results = new BenchResults("scale", FileSystem.getLocal(new Configuration()), csv)) {
      got.forEach(m -> results.add(m.experiment(), m.setting(), 42, m.method(), m.metric(), m.value(), "x"));
      List<String> notes = new ArrayList<>();
      byte[] png = ReportCharts.pngOrNull("scale.png", () -> BenchCharts.scale(results), notes);
      assertThat(notes).isEmpty();
      assertThat(png).isNotNull().hasSizeGreaterThan(2000);
      assertThat(Arrays.copyOf(png, 4)).containsExactly(0x89, 'P', 'N', 'G');
    }
  }

  @Test
  void missingDatasetNamesTheKeyAndTheDebianPackage() {
    LetheConfig config = LetheConfig.load(List.of(), List.of("bench.scale.fashion-mnist-dir=/nonexistent/fmnist"));
    assertThatThrownBy(() -> ScaleSuite.Settings.of(config)).isInstanceOf(LetheInputException.class)
        .hasMessageContaining("bench.scale.fashion-mnist-dir").hasMessageContaining("/nonexistent/fmnist")
        .hasMessageContaining("dataset-fashion-mnist");
  }

  private static double value(List<Measured> got, String setting, String method, String metric) {
    List<Measured> m = got.stream().filter(x -> x.setting().equals(setting) && x.method().equals(method)
        && x.metric().equals(metric)).toList();
    assertThat(m).as("one %s %s %s", setting, method, metric).hasSize(1);
    assertThat(m.get(0).experiment()).isEqualTo("scale");
    return m.get(0).value();
  }
}
