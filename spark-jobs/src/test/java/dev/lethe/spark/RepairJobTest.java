package dev.lethe.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.lethe.data.ExampleSet;
import dev.lethe.model.ModelStore;
import dev.lethe.spark.io.ExampleTables;
import dev.lethe.spark.io.WorkdirLayout;
import dev.lethe.repair.RepairEvaluation.Accuracies;
import dev.lethe.repair.RepairEvaluation.Sets;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.functions;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The repair stage on a copy of the small fixture (400 training rows, 72 of them label flips; MLP) with the oracle
 * ranking (corrupted rows first), so the selection's corrupted count is known exactly.
 */
class RepairJobTest {
  /** Cheap settings for every repair on the 400-row fixture. */
  static final List<String> FAST = Stream.concat(StageFixture.SMALL.stream(), Stream.of(
      "repair.ranking=oracle", "repair.selection=top-k", "repair.top-k=50", "repair.ewc-deletion.max-epochs=5",
      "repair.newton-removal.curvature-samples=100", "repair.newton-removal.cg.max-iterations=30",
      "repair.finetune.max-epochs=3")).toList();
  /** Label flips in the fixture: 6 source classes x round(0.3 x 40). */
  static final int FLIPS = 72;

  static Path wd;

  @BeforeAll
  static void culprits() throws IOException {
    wd = StageFixture.copy(StageFixture.small());
    // other test classes leave their ranking tables in the shared fixture
    IdentifyJobTest.deleteTree(wd.resolve("rankings"));
    StageFixture.ok("identify", wd, StageFixture.SMALL, "--method", "oracle", "--overwrite");
  }

  static List<String> with(List<String> base, String... more) {
    List<String> l = new ArrayList<>(base);
    l.addAll(List.of(more));
    return l;
  }

  static Config report(Path workdir, String method) {
    Path p = workdir.resolve("repair/" + method + "/report.json");
    assertThat(p).exists();
    return ConfigFactory.parseFile(p.toFile());
  }

  static ExampleSet failures(Path workdir, String rel) {
    Dataset<Row> df = ExampleTables.read(SharedSpark.get(), workdir.resolve(rel).toString(), ExampleTables.FAILURES,
        rel);
    return ExampleTables.collectPossiblyEmpty(df, false, 784, 10, rel);
  }

  static MultiLayerNetwork model(Path p) throws IOException {
    try (InputStream in = Files.newInputStream(p)) {
      return ModelStore.read(in, p.toString());
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"ewc-deletion", "newton-removal", "puma", "finetune", "finetune-fq", "finetune-combined",
      "align"})
  void everyMethodWritesAReportConsistentWithItsModel(String method) throws IOException {
    // align with its default energy model (retrained on D \ C) and no margin, so that it relabels on this small set
    List<String> overrides = method.equals("align") ? with(FAST, "repair.align.min-energy-gap=0") : FAST;
    StageFixture.Run r = StageFixture.ok("repair", wd, overrides, "--method", method, "--overwrite");
    Config rep = report(wd, method);
    assertThat(rep.getString("method")).isEqualTo(method);
    assertThat(rep.getString("ranking.table")).isEqualTo("rankings/oracle.parquet");
    assertThat(rep.getString("selection.policy")).isEqualTo("top-k");
    assertThat(rep.getInt("selection.size")).isEqualTo(50);
    assertThat(rep.getInt("selection.train_size")).isEqualTo(400);
    // the oracle ranks the 72 flipped labels first: the top 50 are all corrupted
    assertThat(rep.getInt("corruption.in_train")).isEqualTo(FLIPS);
    assertThat(rep.getInt("corruption.in_selection")).isEqualTo(50);
    assertThat(rep.getDouble("corruption.precision")).isEqualTo(1.0);
    assertThat(rep.getString("hyperparameters.section")).startsWith("repair.");

    Sets sets = sets(wd);
    assertThat(rep.getInt("sizes.query")).isEqualTo(sets.query().size());
    assertThat(rep.getInt("sizes.benchmark")).isEqualTo(sets.benchmark().size()).isPositive();
    assertThat(rep.getInt("sizes.test")).isEqualTo(300);
    // theta_hat reproduces the failure split exactly
    assertThat(rep.getDouble("before.query")).isZero();
    assertThat(rep.getDouble("before.holdout")).isZero();
    assertThat(rep.getDouble("before.benchmark")).isEqualTo(1.0);
    assertThat(rep.getDouble("before.correct_holdout")).isEqualTo(1.0);

    String status = rep.getString("status");
    String file = rep.getString("model");
    assertThat(status).isIn("accepted", "rejected");
    assertThat(file).isEqualTo(status.equals("rejected") ? "model-rejected.zip" : "model.zip");
    assertThat(wd.resolve("repair/" + method + "/" + file)).exists();
    assertThat(wd.resolve("repair/" + method + "/" + (file.equals("model.zip") ? "model-rejected.zip"
        : "model.zip"))).doesNotExist();
    // the reported accuracies are those of the written model, and the chosen point is one of the frontier's
    MultiLayerNetwork repaired = model(wd.resolve("repair/" + method + "/" + file));
    Accuracies after = Accuracies.of(repaired, sets);
    assertThat(rep.getDouble("after.query")).isCloseTo(after.query(), within(1e-12));
    assertThat(rep.getDouble("after.benchmark")).isCloseTo(after.benchmark(), within(1e-12));
    assertThat(rep.getDouble("after.holdout")).isCloseTo(after.holdout(), within(1e-12));
    assertThat(rep.getDouble("after.correct_holdout")).isCloseTo(after.correctHoldout(), within(1e-12));
    assertThat(rep.getDouble("after.test")).isCloseTo(after.test(), within(1e-12));
    double drop = rep.getDouble("benchmark.drop_points");
    assertThat(drop).isCloseTo(100 * (1.0 - after.benchmark()), within(1e-9));
    List<? extends Config> frontier = rep.getConfigList("frontier");
    assertThat(frontier).isNotEmpty();
    Config chosen = rep.getConfig("chosen");
    assertThat(frontier).anySatisfy(p -> {
      assertThat(p.getInt("setting")).isEqualTo(chosen.getInt("setting"));
      assertThat(p.getInt("step")).isEqualTo(chosen.getInt("step"));
    });
    assertThat(chosen.getDouble("query")).isCloseTo(after.query(), within(1e-12));
    assertThat(chosen.getDouble("benchmark")).isCloseTo(after.benchmark(), within(1e-12));
    boolean admissible = after.query() > 0 && drop <= 1.0 + 1e-9;
    assertThat(status).isEqualTo(admissible ? "accepted" : "rejected");
    assertThat(rep.getString("guardrail.verdict")).isEqualTo(status);
    if (admissible) {
      // no admissible candidate of the frontier fixes more of Fq than the chosen one
      assertThat(frontier.stream().filter(p -> p.getDouble("query") > 0
          && 100 * (1.0 - p.getDouble("benchmark")) <= 1.0 + 1e-9).mapToDouble(p -> p.getDouble("query")).max()
          .orElseThrow()).isEqualTo(after.query());
    }
    assertThat(rep.getString("model_fingerprint")).isNotEqualTo(rep.getString("base_model_fingerprint"));
    assertThat(rep.getDouble("seconds.total")).isGreaterThanOrEqualTo(rep.getDouble("seconds.search"));
    assertThat(rep.getDouble("seconds.search")).isPositive();
    assertThat(r.out()).contains("repair: " + method + " on 50 culprits (top 50 of rankings/oracle.parquet, 50 of"
        + " them corrupted (of 72 in D))").contains(status.toUpperCase(java.util.Locale.ROOT))
        .contains(frontier.size() + " candidates");
    Config prov = ConfigFactory.parseFile(wd.resolve("repair/" + method + ".provenance.json").toFile());
    assertThat(prov.getString("stage")).isEqualTo("repair");
    assertThat(prov.getString("config.repair.method")).isEqualTo(method);
    assertThat(wd.resolve("_staging")).doesNotExist();
    assertThat(rep.hasPath("label_alignment")).isEqualTo(method.equals("align"));
    if (method.equals("align")) {
      labelAlignmentIsConsistent(rep);
    }
  }

  /** align's label changes: each is a real change of a selected culprit, and the restored count is theirs. */
  private static void labelAlignmentIsConsistent(Config rep) {
    Config a = rep.getConfig("label_alignment");
    assertThat(a.getInt("culprits")).isEqualTo(50);
    List<? extends Config> changes = a.getConfigList("changes");
    assertThat(changes).hasSize(a.getInt("changed"));
    assertThat(changes).allSatisfy(c -> {
      assertThat(c.getInt("to")).isNotEqualTo(c.getInt("from"));
      assertThat(c.getBoolean("corrupted")).isTrue();
      assertThat(c.getDouble("energy_gap")).isPositive();
    });
    assertThat(a.getString("energy_model")).isEqualTo(dev.lethe.repair.AlignOptions.defaults().energyModel());
    long restored = changes.stream().filter(c -> c.getInt("to") == c.getInt("original")).count();
    assertThat(a.getInt("restored_original")).isEqualTo((int) restored);
    assertThat(a.getBoolean("corruption_flags")).isTrue();
    assertThat(a.getInt("inputs_moved")).isZero();
    // no margin, unaligned keep: every culprit the energy model disputes is relabelled, none held or dropped
    assertThat(changes).isNotEmpty();
    assertThat(a.getInt("held")).isZero();
    assertThat(a.getInt("dropped")).isZero();
    assertThat(a.getInt("energy_model_epochs")).isPositive();
    dev.lethe.repair.RepairReport back = dev.lethe.repair.RepairReport.of(rep, "report.json");
    assertThat(back.labelAlignment().held()).isZero();
    assertThat(back.labelAlignment().energyModel()).isEqualTo(dev.lethe.repair.AlignOptions.RETRAINED);
    assertThat(back.labelAlignment().changes()).hasSize(changes.size());
    assertThat(back.labelAlignment().restoredOriginal()).isEqualTo((int) restored);
    System.out.printf("align on the oracle's top 50: %d labels changed, %d restored to the original label%n",
        changes.size(), restored);
  }

  static Sets sets(Path workdir) {
    return new Sets(failures(workdir, WorkdirLayout.QUERY), failures(workdir, WorkdirLayout.BENCHMARK),
        failures(workdir, WorkdirLayout.HOLDOUT), failures(workdir, WorkdirLayout.CORRECT_HOLDOUT));
  }

  /** Same inputs and seed: bitwise the same repaired parameters (the fingerprint hashes every parameter byte). */
  @ParameterizedTest
  @ValueSource(strings = {"newton-removal", "finetune", "finetune-combined"})
  void repairedParametersRepeatOnRerun(String method) {
    List<String> sets = with(FAST, "repair.newton-removal.solver=lissa", "repair.newton-removal.lissa.scale=0",
        "repair.newton-removal.lissa.depth=50");
    StageFixture.ok("repair", wd, sets, "--method", method, "--overwrite");
    String first = report(wd, method).getString("model_fingerprint");
    StageFixture.ok("repair", wd, sets, "--method", method, "--overwrite");
    Config second = report(wd, method);
    assertThat(second.getString("model_fingerprint")).as(method).isEqualTo(first)
        .isNotEqualTo(second.getString("base_model_fingerprint"));
  }

  @Test
  void finetuneFqFixesTheQueryFailuresAlongItsPath() {
    StageFixture.ok("repair", wd, with(FAST, "repair.finetune.max-epochs=10"), "--method", "finetune-fq",
        "--overwrite");
    Config rep = report(wd, "finetune-fq");
    // trained on Fq itself: somewhere on its paths it fixes a large share of it
    assertThat(rep.getConfigList("frontier").stream().mapToDouble(p -> p.getDouble("query")).max().orElseThrow())
        .isGreaterThan(0.2);
    // one path per (L2 pull, learning rate) of the grid
    dev.lethe.repair.RepairOptions.Search grid = dev.lethe.repair.RepairOptions.Search.defaults();
    assertThat(rep.getConfigList("frontier").stream().map(p -> p.getInt("setting")).distinct().count())
        .isEqualTo((long) grid.finetuneL2().length * grid.finetuneLearningRate().length);
  }

  @ParameterizedTest
  @ValueSource(strings = {"top-k", "top-fraction", "positive"})
  void selectionSizeFollowsThePolicy(String policy) {
    // the oracle's scores shifted by -0.5: the 72 flipped rows score above 0, the clean ones below
    Dataset<Row> oracle = SharedSpark.get().read().parquet(wd.resolve("rankings/oracle.parquet").toString());
    Path shifted = wd.resolve("rankings/shifted.parquet");
    if (!Files.exists(shifted)) {
      oracle.withColumn("score", functions.col("score").minus(0.5)).withColumn("method", functions.lit("shifted"))
          .write().mode(SaveMode.ErrorIfExists).parquet(shifted.toString());
    }
    List<String> sets = with(StageFixture.SMALL, "repair.ranking=shifted", "repair.selection=" + policy,
        "repair.top-k=30", "repair.top-fraction=0.15", "repair.newton-removal.curvature=diagonal");
    StageFixture.ok("repair", wd, sets, "--method", "newton-removal", "--overwrite");
    Config rep = report(wd, "newton-removal");
    int expected = switch (policy) {
      case "top-k" -> 30;
      case "top-fraction" -> 60; // ceil(0.15 x 400)
      default -> FLIPS;
    };
    assertThat(rep.getInt("selection.size")).isEqualTo(expected);
    assertThat(rep.getInt("selection.positive_scores")).isEqualTo(FLIPS);
    assertThat(rep.getInt("corruption.in_selection")).isEqualTo(expected);
  }

  /**
   * Huge Newton steps only (gamma 50 and 100 with the diagonal curvature, whose damping 1e-3 amplifies the
   * low-curvature directions) wreck the model: every candidate loses far more on B than the 1-point guardrail allows.
   * The stage still completes (exit 0), but says REJECTED, writes the closest candidate as model-rejected.zip and,
   * under --overwrite, removes the model.zip of an earlier accepted run. A generous limit accepts the same path.
   */
  @Test
  void guardrailRejectsWhenNoCandidateKeepsTheBenchmarkAndSaysSo() {
    List<String> damaging = with(FAST, "repair.newton-removal.curvature=diagonal",
        "repair.search.newton-removal.gamma=[50, 100]");
    StageFixture.ok("repair", wd, with(damaging, "repair.max-benchmark-drop=100"), "--method", "newton-removal",
        "--overwrite");
    Config generous = report(wd, "newton-removal");
    assertThat(generous.getString("status")).isEqualTo("accepted");
    assertThat(wd.resolve("repair/newton-removal/model.zip")).exists();

    StageFixture.Run r = StageFixture.run("repair", wd, damaging, "--method", "newton-removal", "--overwrite");
    assertThat(r.code()).as("a rejected repair is a completed stage").isZero();
    Config rep = report(wd, "newton-removal");
    System.err.printf("newton-removal gamma 50/100: B drops %s%n", rep.getConfigList("frontier").stream()
        .map(p -> 100 * (1 - p.getDouble("benchmark"))).toList());
    assertThat(rep.getConfigList("frontier")).hasSize(2)
        .allSatisfy(p -> assertThat(100 * (1 - p.getDouble("benchmark"))).isGreaterThan(1.0));
    assertThat(rep.getString("status")).isEqualTo("rejected");
    assertThat(rep.getString("guardrail.verdict")).isEqualTo("rejected");
    assertThat(rep.getDouble("guardrail.max_benchmark_drop_points")).isEqualTo(1.0);
    assertThat(rep.getString("model")).isEqualTo("model-rejected.zip");
    // the closest candidate that fixes a failure: the smaller B drop of the two
    double closest = rep.getConfigList("frontier").stream().filter(p -> p.getDouble("query") > 0)
        .mapToDouble(p -> p.getDouble("benchmark")).max().orElseThrow();
    assertThat(rep.getDouble("after.benchmark")).isEqualTo(closest);
    assertThat(wd.resolve("repair/newton-removal/model-rejected.zip")).exists();
    assertThat(wd.resolve("repair/newton-removal/model.zip")).doesNotExist();
    assertThat(r.out()).contains("repair: WARNING: newton-removal REJECTED by the guardrail")
        .contains("model-rejected.zip").containsPattern("; REJECTED; search [0-9.]+ s");
  }

  @Test
  void benchmarkCasesThatAreEmptyMalformedOrOfAnotherModelAreBadInput() throws IOException {
    Path empty = fresh();
    Path b = empty.resolve(WorkdirLayout.BENCHMARK);
    Dataset<Row> rows = SharedSpark.get().read().parquet(b.toString());
    Path emptyTable = empty.resolve("empty.parquet");
    rows.filter("false").write().parquet(emptyTable.toString());
    IdentifyJobTest.deleteTree(b);
    Files.move(emptyTable, b);
    StageFixture.Run r = StageFixture.run("repair", empty, FAST, "--method", "finetune-fq");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("failures/benchmark.parquet").contains("empty");
    assertThat(r.err().lines().filter(l -> !l.isBlank()).count()).isEqualTo(1);
    assertNoOutput(empty, "finetune-fq");

    Path malformed = fresh();
    Path mb = malformed.resolve(WorkdirLayout.BENCHMARK);
    Path other = malformed.resolve("other.parquet");
    SharedSpark.get().read().parquet(mb.toString()).drop("predicted").write().parquet(other.toString());
    IdentifyJobTest.deleteTree(mb);
    Files.move(other, mb);
    StageFixture.Run m = StageFixture.run("repair", malformed, FAST, "--method", "finetune-fq");
    assertThat(m.code()).isEqualTo(2);
    assertThat(m.err()).contains("failures/benchmark.parquet").contains("predicted");
    assertNoOutput(malformed, "finetune-fq");

    Path stale = fresh();
    recordAnotherModel(stale, WorkdirLayout.BENCHMARK);
    StageFixture.Run s = StageFixture.run("repair", stale, FAST, "--method", "finetune-fq");
    assertThat(s.code()).isEqualTo(2);
    assertThat(s.err()).contains("failures/benchmark.parquet").contains("computed with another model");
    assertNoOutput(stale, "finetune-fq");
  }

  @Test
  void missingCulpritsTableIsBadInputAndWritesNothing() throws IOException {
    Path copy = fresh();
    StageFixture.Run r = StageFixture.run("repair", copy, with(FAST, "repair.ranking=linear-cg"), "--method",
        "ewc-deletion");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("rankings/linear-cg.parquet").contains("missing")
        .contains("lethe identify --method linear-cg");
    assertNoOutput(copy, "ewc-deletion");
  }

  @Test
  void rankingTableWithMissingRowsIsBadInput() throws IOException {
    Path copy = fresh();
    Dataset<Row> oracle = SharedSpark.get().read().parquet(copy.resolve("rankings/oracle.parquet").toString());
    oracle.filter("rank <= 399").write().mode(SaveMode.ErrorIfExists)
        .parquet(copy.resolve("rankings/short.parquet").toString());
    StageFixture.Run r = StageFixture.run("repair", copy, with(FAST, "repair.ranking=short"), "--method",
        "finetune-fq");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("rankings/short.parquet").contains("399 rows").contains("has 400");
    assertThat(r.err().lines().filter(l -> !l.isBlank()).count()).isEqualTo(1);
    assertNoOutput(copy, "finetune-fq");
  }

  @Test
  void rankingTableOfOtherDataIsBadInput() throws IOException {
    Path copy = fresh();
    Dataset<Row> oracle = SharedSpark.get().read().parquet(copy.resolve("rankings/oracle.parquet").toString());
    oracle.withColumn("id", functions.when(functions.col("rank").equalTo(7), functions.lit(987654321L))
        .otherwise(functions.col("id"))).write().mode(SaveMode.ErrorIfExists)
        .parquet(copy.resolve("rankings/alien.parquet").toString());
    StageFixture.Run r = StageFixture.run("repair", copy, with(FAST, "repair.ranking=alien"), "--method",
        "finetune-fq");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("rankings/alien.parquet").contains("1 ids are not in the training table")
        .contains("987654321");
    assertNoOutput(copy, "finetune-fq");
  }

  @Test
  void culpritsOfAnotherModelAreBadInput() throws IOException {
    Path copy = fresh();
    recordAnotherModel(copy, "rankings/oracle.parquet");
    StageFixture.Run r = StageFixture.run("repair", copy, FAST, "--method", "finetune-fq");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("rankings/oracle.parquet").contains("computed with another model")
        .contains("0123456789abcdef");
    assertNoOutput(copy, "finetune-fq");
  }

  @Test
  void badSettingsAreBadInputNamingTheKey() throws IOException {
    Path copy = fresh();
    StageFixture.Run unknown = StageFixture.run("repair", copy, FAST, "--method", "forget-everything");
    assertThat(unknown.code()).isEqualTo(2);
    assertThat(unknown.err()).contains("forget-everything")
        .contains("ewc-deletion, newton-removal, finetune, finetune-fq, finetune-combined, puma");
    StageFixture.Run limit = StageFixture.run("repair", copy, with(FAST, "repair.max-benchmark-drop=-1"), "--method",
        "ewc-deletion");
    assertThat(limit.code()).isEqualTo(2);
    assertThat(limit.err()).contains("repair.max-benchmark-drop");
    StageFixture.Run fraction = StageFixture.run("repair", copy, with(FAST, "repair.selection=top-fraction",
        "repair.top-fraction=1.5"), "--method", "ewc-deletion");
    assertThat(fraction.code()).isEqualTo(2);
    assertThat(fraction.err()).contains("repair.top-fraction").contains("1.5");
    StageFixture.Run policy = StageFixture.run("repair", copy, with(FAST, "repair.selection=best"), "--method",
        "ewc-deletion");
    assertThat(policy.code()).isEqualTo(2);
    assertThat(policy.err()).contains("repair.selection").contains("best");
    StageFixture.Run k = StageFixture.run("repair", copy, with(FAST, "repair.top-k=0"), "--method", "ewc-deletion");
    assertThat(k.code()).isEqualTo(2);
    assertThat(k.err()).contains("repair.top-k");
    StageFixture.Run table = StageFixture.run("repair", copy, with(FAST, "repair.ranking=\"../data/train\""),
        "--method", "ewc-deletion");
    assertThat(table.code()).isEqualTo(2);
    assertThat(table.err()).contains("repair.ranking");
    assertNoOutput(copy, "ewc-deletion");
  }

  @Test
  void existingOutputIsNotOverwrittenWithoutTheFlag() {
    StageFixture.ok("repair", wd, FAST, "--method", "finetune-fq", "--overwrite");
    StageFixture.Run r = StageFixture.run("repair", wd, FAST, "--method", "finetune-fq");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("repair/finetune-fq").contains("--overwrite");
  }

  /** Makes the provenance of {@code rel} name another base model (fingerprint 0123456789abcdef). */
  static void recordAnotherModel(Path workdir, String rel) throws IOException {
    Path prov = workdir.resolve(rel + ".provenance.json");
    Config c = ConfigFactory.parseFile(prov.toFile());
    String fingerprint = c.getConfigList("inputs").stream().filter(i -> i.getString("path").endsWith("base.zip"))
        .findFirst().orElseThrow().getString("fingerprint");
    Path crc = prov.resolveSibling("." + prov.getFileName() + ".crc");
    Files.deleteIfExists(crc);
    Files.writeString(prov, Files.readString(prov).replace(fingerprint, "0123456789abcdef"));
  }

  /** A copy of the fixture without repair outputs (other tests write them), to damage. */
  static Path fresh() throws IOException {
    Path copy = StageFixture.copy(wd);
    IdentifyJobTest.deleteTree(copy.resolve("repair"));
    return copy;
  }

  static void assertNoOutput(Path workdir, String method) {
    assertThat(workdir.resolve("repair/" + method)).doesNotExist();
    assertThat(workdir.resolve("repair/" + method + ".provenance.json")).doesNotExist();
    assertThat(workdir.resolve("_staging")).doesNotExist();
  }
}
