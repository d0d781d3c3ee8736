package dev.lethe.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lethe.spark.ReportJobTest;
import dev.lethe.spark.SharedSpark;
import dev.lethe.spark.StageFixture;
import dev.lethe.spark.cli.StageArgs;
import dev.lethe.spark.io.RankingTables;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code lethe bench --suite quick} shrunk to the small fixture's size (400 training / 300 test images, MLP, few
 * epochs and iterations): the files it writes and the sanity of what it measured, and its argument checks.
 */
class BenchJobTest {
  static final List<String> METHODS = List.of("ewc-influence", "linear-cg", "linear-lissa", "random", "oracle",
      "tracin", "self-influence", "loss", "confident-learning", "puma", "knn-shapley", "tmc-shapley");
  static final List<String> TINY = List.of("data.train-size=400", "data.test-size=300", "model.architecture=mlp",
      "train.max-epochs=3", "identify.ewc.max-epochs=5", "identify.linear.curvature-samples=100",
      "identify.linear.cg.max-iterations=30", "identify.linear.lissa.depth=50", "repair.ewc-deletion.max-epochs=3",
      "repair.newton-removal.curvature-samples=100", "repair.newton-removal.cg.max-iterations=30",
      "repair.finetune.max-epochs=1", "train.checkpoints=2", "identify.confident-learning.folds=2",
      "identify.tmc-shapley.max-permutations=2", "identify.tmc-shapley.check-every=1");
  static Path root;
  static StageFixture.Run run;

  /** One results.csv row. */
  record Row(String suite, String experiment, String setting, long seed, String method, String metric, double value,
      String unit) {}

  @BeforeAll
  static void runQuickSuite() {
    root = StageFixture.newDir("bench").resolve("out");
    run = StageFixture.ok("bench", root, TINY, "--suite", "quick");
  }

  static List<Row> results(Path csv) throws IOException {
    List<String> lines = Files.readAllLines(csv);
    assertThat(lines.get(0)).isEqualTo("suite,experiment,setting,seed,method,metric,value,unit");
    List<Row> rows = new ArrayList<>();
    for (String l : lines.subList(1, lines.size())) {
      String[] f = l.split(",", -1);
      assertThat(f).as("fields of %s", l).hasSize(8);
      rows.add(new Row(f[0], f[1], f[2], Long.parseLong(f[3]), f[4], f[5], Double.parseDouble(f[6]), f[7]));
    }
    return rows;
  }

  private static List<Row> select(List<Row> rows, String experiment, String method, String metricPrefix) {
    return rows.stream().filter(r -> r.experiment().equals(experiment) && r.method().equals(method)
        && r.metric().startsWith(metricPrefix)).toList();
  }

  @Test
  void resultsHaveCurvesForEveryMethodAndSaneMeasurements() throws IOException {
    List<Row> rows = results(root.resolve("quick/results.csv"));
    assertThat(rows).allMatch(r -> r.suite().equals("quick"));
    assertThat(rows).filteredOn(r -> !r.setting().equals("all")).allMatch(r -> r.setting().equals("label-flip")
        && r.seed() == 42);
    for (String m : METHODS) {
      TreeMap<Double, Double> curve = new TreeMap<>();
      for (Row r : select(rows, "identification", m, "found_at_")) {
        curve.put(Double.parseDouble(r.metric().substring("found_at_".length())), r.value());
      }
      assertThat(curve).as("curve of %s", m).hasSizeGreaterThan(10).containsKeys(0.0, 1.0);
      assertThat(curve.values()).allMatch(v -> v >= 0 && v <= 1);
      assertThat(curve.get(1.0)).isEqualTo(1.0);
      double previous = -1;
      for (double v : curve.values()) {
        assertThat(v).as("found fraction of %s is non-decreasing", m).isGreaterThanOrEqualTo(previous);
        previous = v;
      }
      assertThat(select(rows, "identification", m, "auc")).singleElement()
          .satisfies(r -> assertThat(r.value()).isBetween(0.0, 1.0));
      assertThat(select(rows, "timing", m, "identify_wall_seconds")).singleElement()
          .satisfies(r -> assertThat(r.value()).isPositive());
      // the JVM's first identify of each method ran untimed before the timed runs, and is reported apart; the
      // training-bound methods are not warmed up
      if (QualitySuite.NOT_WARMED_UP.contains(m)) {
        assertThat(select(rows, "timing", m, "warmup_identify_wall_seconds")).as(m).isEmpty();
      } else {
        assertThat(select(rows, "timing", m, "warmup_identify_wall_seconds")).as(m).singleElement()
            .satisfies(r -> assertThat(r.value()).isPositive());
      }
    }
    Map<String, Double> oracle = new HashMap<>();
    select(rows, "identification", "oracle", "corrupted_share_top_").forEach(r -> oracle.put(r.metric(), r.value()));
    assertThat(oracle).hasSize(4);
    for (String m : METHODS) {
      for (Row r : select(rows, "identification", m, "corrupted_share_top_")) {
        assertThat(oracle.get(r.metric())).as("oracle vs %s, %s", m, r.metric()).isGreaterThanOrEqualTo(r.value());
      }
    }
    // the oracle's ranking puts every corrupted example first: its top 1% is all corrupted
    assertThat(oracle.get("corrupted_share_top_1pct")).isEqualTo(1.0);
    assertThat(rows).filteredOn(r -> r.unit().equals("s")).isNotEmpty().allMatch(r -> r.value() > 0);
    assertThat(rows).filteredOn(r -> r.experiment().equals("timing") && r.metric().equals("stage_seconds"))
        .extracting(Row::method).containsExactly("prepare", "train", "failures", "fisher");
    assertThat(select(rows, "timing", "ewc-influence/linear-lissa", "identify_time_ratio")).singleElement()
        .satisfies(r -> assertThat(r.value()).isPositive());

    // repair: every repair, whether each guardrail accepted a point, and the accepted points' changes
    assertThat(rows).filteredOn(r -> r.experiment().equals("repair") && r.metric().equals("accepted_delta1"))
        .extracting(Row::method).containsExactly("ewc-deletion", "newton-removal", "finetune", "finetune-fq",
            "finetune-combined", "puma", "align");
    for (String delta : List.of("_delta1", "_delta2")) {
      List<Row> accepted = rows.stream().filter(r -> r.experiment().equals("repair")
          && r.metric().equals("accepted" + delta)).toList();
      assertThat(accepted).allMatch(r -> r.value() == 0 || r.value() == 1);
      for (Row a : accepted) {
        List<Row> drop = select(rows, "repair", a.method(), "benchmark_drop_points" + delta);
        // a point is reported exactly when one was accepted, and it keeps its guardrail
        assertThat(drop).hasSize((int) a.value());
        assertThat(drop).allMatch(r -> r.value() <= Double.parseDouble(delta.substring(6)) + 1e-9);
      }
    }
    // a point accepted at 1 point is admissible at 2: the looser guardrail accepts at least as often
    assertThat(rows.stream().filter(r -> r.metric().equals("accepted_delta2")).mapToDouble(Row::value).sum())
        .isGreaterThanOrEqualTo(rows.stream().filter(r -> r.metric().equals("accepted_delta1"))
            .mapToDouble(Row::value).sum());
    // fine-tuning sweep: 100, 200, 400 of 3000 scaled to 400 rows, plus theta_hat
    assertThat(rows).filteredOn(r -> r.experiment().equals("finetune-sweep") && r.metric().equals("removed"))
        .extracting(Row::value).containsExactlyInAnyOrder(0.0, 13.0, 27.0, 53.0);
    assertThat(rows).filteredOn(r -> r.metric().startsWith("accuracy_")).allMatch(r -> r.value() >= 0
        && r.value() <= 1);

    // roofline: the MLP's forward FLOPs, positive rates and their ratio
    assertThat(select(rows, "roofline", "ewc-influence", "forward_flops_per_example")).singleElement()
        .satisfies(r -> assertThat(r.value()).isEqualTo(2.0 * (784 * 128 + 128 * 10)));
    double scoring = select(rows, "roofline", "ewc-influence", "scoring_flops_per_second").get(0).value();
    double gemm = select(rows, "roofline", "ewc-influence", "gemm_flops_per_second").get(0).value();
    assertThat(scoring).isPositive();
    assertThat(gemm).isPositive();
    // the reference is the better of one threaded product and concurrent single-threaded ones, both recorded
    double threaded = select(rows, "roofline", "ewc-influence", "gemm_threaded_flops_per_second").get(0).value();
    double concurrent = select(rows, "roofline", "ewc-influence", "gemm_concurrent_flops_per_second").get(0).value();
    assertThat(threaded).isPositive();
    assertThat(concurrent).isPositive();
    assertThat(gemm).isEqualTo(Math.max(threaded, concurrent));
    assertThat(select(rows, "roofline", "ewc-influence", "roofline_fraction").get(0).value())
        .isCloseTo(scoring / gemm, org.assertj.core.api.Assertions.within(1e-9 * scoring / gemm));
    // the JIT compilation during that pass, as the timed identify run's provenance has it
    double jit = RankingTables.provenance(dev.lethe.spark.io.Workdir.open(root.resolve(
        "quick/runs/label-flip-seed42").toString(), SharedSpark.get().sparkContext().hadoopConfiguration(), false),
        "ewc-influence").getDouble("scoring_pass_jit_seconds");
    assertThat(select(rows, "roofline", "ewc-influence", "scoring_pass_jit_seconds")).singleElement()
        .satisfies(r -> assertThat(r.value()).isEqualTo(jit));
    // without the random ranking's time to read and partition the table (recorded only when that pass was the
    // shorter one, which a 400-row MLP does not guarantee): a faster rate over the same FLOPs, and its own fraction
    // of the GEMM rate
    List<Row> forward = select(rows, "roofline", "ewc-influence", "forward_flops_per_second");
    assertThat(select(rows, "roofline", "ewc-influence", "read_partition_seconds")).hasSameSizeAs(forward);
    assertThat(select(rows, "roofline", "ewc-influence", "forward_fraction")).hasSameSizeAs(forward);
    if (!forward.isEmpty()) {
      double f = forward.get(0).value();
      assertThat(f).isGreaterThan(scoring);
      assertThat(select(rows, "roofline", "ewc-influence", "forward_fraction").get(0).value())
          .isCloseTo(f / gemm, org.assertj.core.api.Assertions.within(1e-9 * f / gemm));
      assertThat(select(rows, "roofline", "ewc-influence", "read_partition_seconds").get(0).value()).isPositive();
    }
  }

  @Test
  void writesTheSummaryAndThePlots() throws IOException {
    String md = Files.readString(root.resolve("quick/summary.md"));
    assertThat(md).startsWith("# Lethe benchmarks: suite quick")
        .contains("## Identification: label-flip (1 seed)", "| method | top 1% | top 5% | top 10% | top 20% |")
        .contains("## Repair: label-flip", "| ewc-deletion | 1 |", "| newton-removal | 2 |", "| puma | 1 |")
        .contains("## Fine-tuning on D\\C after removing the top k: label-flip")
        .contains("## Timing", "| ewc-influence identify stage, 3000-example protocol (this run: 400")
        .contains("| ewc-influence time / linear-lissa time (same run) |", "## Roofline", "ND4J backend")
        .contains("(kernels: " + dev.lethe.bench.GemmRate.openBlasKernels() + ")")
        .contains("Untimed warm-up runs (the JVM's first identify of each method, in this order): ewc-influence ")
        // the MLP has no fisher/logp.bin: two forward passes per row
        .contains("x 2 forward passes per row (1 when log p(z|theta_hat) comes from the fisher stage's")
        .contains("During the pass the JVM's JIT compilers worked for ")
        .contains("the better of one product on that many BLAS threads (")
        .contains("Command: `lethe bench --suite quick --workdir " + root, "--set data.train-size=400");
    for (String m : METHODS) {
      assertThat(md).contains("| " + m + " |");
    }
    for (String png : List.of("identification-label-flip.png", "tradeoff-label-flip.png",
        "finetune-sweep-label-flip.png", "timing.png")) {
      ReportJobTest.assertPng(root.resolve("quick/" + png));
      assertThat(md).contains("](" + png + ")");
    }
    assertThat(root.resolve("quick/runs/label-flip-seed42/rankings/linear-lissa.parquet/_SUCCESS")).exists();
    assertThat(root.resolve("quick/_staging")).doesNotExist();
    assertThat(run.out()).contains("bench: roofline: ewc-influence scored 400 rows", "bench: suite quick done in");
    // the machine facts, in the provenance and in bench-state.json; the summary names the processor
    com.typesafe.config.Config prov = com.typesafe.config.ConfigFactory.parseFile(
        root.resolve("quick/summary.md.provenance.json").toFile());
    assertThat(prov.getObject("machine").keySet()).containsExactlyInAnyOrder("processor", "cores",
        "openblas_kernels", "spark_master");
    String processor = prov.getString("machine.processor");
    assertThat(processor).isNotBlank();
    assertThat(md).contains("\n- processor: " + processor + "\n");
    assertThat(prov.getString("machine.cores")).isEqualTo(Integer.toString(Runtime.getRuntime()
        .availableProcessors()));
    assertThat(prov.getString("machine.openblas_kernels")).isEqualTo(dev.lethe.bench.GemmRate.openBlasKernels());
    assertThat(prov.getString("machine.spark_master")).startsWith("local[");
    com.typesafe.config.Config state = com.typesafe.config.ConfigFactory.parseFile(
        root.resolve("quick/bench-state.json").toFile());
    assertThat(state.getObject("machine").unwrapped()).isEqualTo(prov.getObject("machine").unwrapped());
  }

  @Test
  void refusesExistingOutputWithoutOverwrite() throws IOException {
    long before = Files.size(root.resolve("quick/results.csv"));
    StageFixture.Run again = StageFixture.run("bench", root, TINY, "--suite", "quick");
    assertThat(again.code()).isEqualTo(2);
    assertThat(again.err()).contains("already exists", "--overwrite");
    assertThat(Files.size(root.resolve("quick/results.csv"))).isEqualTo(before);
  }

  /**
   * --resume keeps the runs an earlier invocation completed, and runs again (deterministically, dropping its old
   * rows) a run whose completion marker is missing, as a killed invocation leaves it.
   */
  @Test
  void resumeKeepsCompletedRunsAndRerunsTheRest() throws IOException {
    Path copy = StageFixture.copy(root);
    Path csv = copy.resolve("quick/results.csv");
    List<Row> original = results(csv);
    assertThat(original).filteredOn(r -> r.experiment().equals("run") && r.metric().equals("complete"))
        .singleElement().satisfies(r -> assertThat(r.setting() + "/" + r.seed()).isEqualTo("label-flip/42"));
    assertThat(copy.resolve("quick/bench-state.json")).isNotEmptyFile();

    StageFixture.Run kept = StageFixture.ok("bench", copy, TINY, "--suite", "quick", "--resume");
    assertThat(kept.out()).contains("label-flip seed 42: completed by an earlier invocation, kept (--resume)")
        .doesNotContain("label-flip seed 42: prepare");
    assertThat(results(csv).stream().filter(r -> !r.setting().equals("all")).toList())
        .isEqualTo(original.stream().filter(r -> !r.setting().equals("all")).toList());
    assertThat(results(csv)).filteredOn(r -> r.setting().equals("all") && r.metric().equals("suite_wall_seconds"))
        .hasSize(1);
    assertThat(Files.readString(copy.resolve("quick/summary.md"))).contains("- resumed: the runs [label-flip/42]",
        "--resume");

    // as a killed invocation leaves it: the run's last rows and its marker never written
    List<String> lines = Files.readAllLines(csv);
    int cut = lines.size() - 1;
    while (!lines.get(cut).contains(",identification,")) {
      cut--;
    }
    Files.write(csv, lines.subList(0, cut));
    Files.writeString(csv, "quick,identification,label-flip,42,ora", java.nio.file.StandardOpenOption.APPEND);
    StageFixture.Run rerun = StageFixture.ok("bench", copy, TINY, "--suite", "quick", "--resume");
    assertThat(rerun.out()).contains("keeping 0 completed run(s)", "label-flip seed 42: prepare");
    List<Row> again = results(csv);
    assertThat(again).filteredOn(r -> r.experiment().equals("run")).hasSize(1);
    assertThat(Files.readString(copy.resolve("quick/results.previous.csv"))).endsWith(",ora");
    // the same measurements, once each, and the rankings reproduce exactly
    for (String method : METHODS) {
      List<Row> before = select(original, "identification", method, "");
      List<Row> now = select(again, "identification", method, "");
      assertThat(now).as(method).hasSameSizeAs(before);
      for (int i = 0; i < now.size(); i++) {
        assertThat(now.get(i).metric()).isEqualTo(before.get(i).metric());
        assertThat(now.get(i).value()).as("%s %s", method, now.get(i).metric())
            .isCloseTo(before.get(i).value(), org.assertj.core.api.Assertions.within(1e-12));
      }
    }
  }

  @Test
  void resumeRefusesAnotherConfigurationBuildOrSuiteAndWritesNothing() throws IOException {
    Path copy = StageFixture.copy(root);
    Path csv = copy.resolve("quick/results.csv");
    String before = Files.readString(csv);
    List<String> changed = new ArrayList<>(TINY);
    changed.add("identify.ewc.gamma=0.05");
    StageFixture.Run other = StageFixture.run("bench", copy, changed, "--suite", "quick", "--resume");
    assertThat(other.code()).isEqualTo(2);
    assertThat(other.err()).contains("--resume: the configuration differs", "identify.ewc.gamma", "--overwrite");
    // a state written by another build
    Path state = copy.resolve("quick/bench-state.json");
    String saved = Files.readString(state);
    Files.deleteIfExists(copy.resolve("quick/.bench-state.json.crc")); // edited by hand, as a user might
    Files.writeString(state, saved.replaceFirst("\"build\"\\s*:\\s*\"[^\"]*\"", "\"build\":\"sha256 0000\""));
    StageFixture.Run build = StageFixture.run("bench", copy, TINY, "--suite", "quick", "--resume");
    assertThat(build.code()).isEqualTo(2);
    assertThat(build.err()).contains("another build of Lethe", "sha256 0000");
    // a state written on another machine, or under another Spark master
    Files.writeString(state, saved.replaceFirst("\"processor\"\\s*:\\s*\"[^\"]*\"", "\"processor\":\"Other CPU\""));
    StageFixture.Run machine = StageFixture.run("bench", copy, TINY, "--suite", "quick", "--resume");
    assertThat(machine.code()).isEqualTo(2);
    assertThat(machine.err()).contains("another machine or setup", "processor: Other CPU, now ", "--overwrite");
    Files.writeString(state, saved.replaceFirst("\"spark_master\"\\s*:\\s*\"[^\"]*\"",
        "\"spark_master\":\"spark://elsewhere:7077 (default parallelism 64)\""));
    StageFixture.Run master = StageFixture.run("bench", copy, TINY, "--suite", "quick", "--resume");
    assertThat(master.code()).isEqualTo(2);
    assertThat(master.err()).contains("another machine or setup",
        "spark_master: spark://elsewhere:7077 (default parallelism 64), now local[").doesNotContain("processor:");
    Files.writeString(state, saved);
    assertThat(Files.readString(csv)).isEqualTo(before);
    assertThat(copy.resolve("quick/results.previous.csv")).doesNotExist();

    Path fresh = StageFixture.newDir("bench-resume-none").resolve("out");
    StageFixture.Run none = StageFixture.run("bench", fresh, TINY, "--suite", "quick", "--resume");
    assertThat(none.code()).isEqualTo(2);
    assertThat(none.err()).contains("no bench-state.json", "without --resume");
    assertThat(fresh).doesNotExist();
    StageFixture.Run scale = StageFixture.run("bench", fresh, TINY, "--suite", "scale", "--resume");
    assertThat(scale.code()).isEqualTo(2);
    assertThat(scale.err()).contains("the scale suite cannot be resumed", "--overwrite");
    StageFixture.Run paper = StageFixture.run("bench", copy, TINY, "--suite", "paper", "--resume");
    assertThat(paper.code()).isEqualTo(2);
    assertThat(paper.err()).contains("no bench-state.json");
    StageFixture.Run both = StageFixture.run("bench", copy, TINY, "--suite", "quick", "--resume", "--overwrite");
    assertThat(both.code()).isEqualTo(2);
    assertThat(both.err()).contains("--resume and --overwrite contradict");
    assertThat(StageFixture.run("report", copy, List.of(), "--resume").err())
        .contains("--resume is an option of stage bench only");
    assertThat(Files.readString(csv)).isEqualTo(before);
  }

  @Test
  void unknownSuiteIsBadInputAndWritesNothing() {
    Path fresh = StageFixture.newDir("bench-bad").resolve("out");
    StageFixture.Run bad = StageFixture.run("bench", fresh, TINY, "--suite", "nope");
    assertThat(bad.code()).isEqualTo(2);
    assertThat(bad.err()).contains("unknown benchmark suite 'nope'", "quick, paper, scale");
    assertThat(fresh).doesNotExist();
    List<String> noData = new ArrayList<>(TINY);
    noData.add("bench.scale.fashion-mnist-dir=/nonexistent/fmnist");
    StageFixture.Run scale = StageFixture.run("bench", fresh, noData, "--suite", "scale");
    assertThat(scale.code()).isEqualTo(2);
    assertThat(scale.err()).contains("bench.scale.fashion-mnist-dir", "/nonexistent/fmnist");
    assertThat(fresh).doesNotExist();
    List<String> noSeeds = new ArrayList<>(TINY);
    noSeeds.add("bench.paper.seeds=0");
    StageFixture.Run paper = StageFixture.run("bench", fresh, noSeeds, "--suite", "paper");
    assertThat(paper.code()).isEqualTo(2);
    assertThat(paper.err()).contains("bench.paper.seeds");
    assertThat(fresh).doesNotExist();
  }

  @Test
  void suiteIsABenchOptionWithDefaults() {
    StageArgs a = StageArgs.parse(null, new String[] {"bench"});
    assertThat(a.suite()).contains("quick");
    assertThat(a.workdir()).isEqualTo("bench");
    assertThat(StageFixture.run("report", root, List.of(), "--suite", "quick").err())
        .contains("--suite is an option of stage bench only");
  }
}
