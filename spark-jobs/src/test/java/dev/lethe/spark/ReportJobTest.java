package dev.lethe.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The report stage on a copy of the small fixture with two rankings (oracle, random) and two repairs (one
 * accepted, one rejected by the guardrail).
 */
public class ReportJobTest {
  static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  static Path wd;
  static StageFixture.Run report;

  @BeforeAll
  static void run() throws IOException {
    wd = StageFixture.copy(StageFixture.small());
    // other test classes leave their ranking tables in the shared fixture
    IdentifyJobTest.deleteTree(wd.resolve("rankings"));
    StageFixture.ok("identify", wd, StageFixture.SMALL, "--method", "oracle", "--overwrite");
    StageFixture.ok("identify", wd, StageFixture.SMALL, "--method", "random", "--overwrite");
    // finetune-fq under a generous guardrail: accepted; newton-removal with only huge steps: rejected
    StageFixture.ok("repair", wd, RepairJobTest.with(RepairJobTest.FAST, "repair.max-benchmark-drop=50"),
        "--method", "finetune-fq", "--overwrite");
    StageFixture.ok("repair", wd, RepairJobTest.with(RepairJobTest.FAST, "repair.newton-removal.curvature=diagonal",
        "repair.search.newton-removal.gamma=[50, 100]"), "--method", "newton-removal", "--overwrite");
    report = StageFixture.ok("report", wd, StageFixture.SMALL, "--overwrite");
  }

  /** A PNG file of some size (a plot, not an empty image); also for the bench module's tests. */
  public static void assertPng(Path p) throws IOException {
    assertThat(p).exists();
    byte[] b = Files.readAllBytes(p);
    assertThat(b.length).as("size of %s", p).isGreaterThan(10_000);
    assertThat(java.util.Arrays.copyOf(b, 8)).isEqualTo(PNG_MAGIC);
  }

  @Test
  void writesThePageThePlotsAndTheSummary() throws IOException {
    assertPng(wd.resolve("report/identification.png"));
    assertPng(wd.resolve("report/repair-tradeoff.png"));
    String html = Files.readString(wd.resolve("report/index.html"));
    assertThat(html).startsWith("<!DOCTYPE html>").contains("<img src=\"identification.png\"")
        .contains("<img src=\"repair-tradeoff.png\"").contains("oracle").contains("random")
        .contains("finetune-fq").contains("newton-removal").contains("<tr class=\"rejected\">").endsWith("</html>\n");
    assertThat(wd.resolve("report.provenance.json")).exists();
    assertThat(wd.resolve("_staging")).doesNotExist();

    Config s = ConfigFactory.parseFile(wd.resolve("report/summary.json").toFile());
    assertThat(s.getString("plots.identification")).isEqualTo("identification.png");
    List<? extends Config> ident = s.getConfigList("identification");
    assertThat(ident).extracting(c -> c.getString("method")).containsExactly("oracle", "random");
    Config oracle = ident.get(0);
    assertThat(oracle.getInt("rows")).isEqualTo(400);
    assertThat(oracle.getInt("corrupted")).isEqualTo(RepairJobTest.FLIPS);
    // the oracle ranks the 72 flips first: 40 of them in the top 10% (40 rows), all of them in the top 20% (80)
    assertThat(oracle.getDouble("found.top_10_percent")).isCloseTo(40.0 / 72, within(1e-12));
    assertThat(oracle.getDouble("found.top_20_percent")).isEqualTo(1.0);
    // area (1/K) sum (N - r + 1) / N with ranks 1..72 of 400
    assertThat(oracle.getDouble("area_under_curve")).isCloseTo(1 - 72 / 2.0 / 400 + 0.5 / 400, within(1e-12));
    Config random = ident.get(1);
    // a random ranking finds about as many as it inspects: 72 flips, top 50% within 0.5 +- 0.15
    assertThat(random.getDouble("found.top_50_percent")).isCloseTo(0.5, within(0.15));
    assertThat(random.getDouble("area_under_curve")).isCloseTo(0.5, within(0.1));
    List<List<Double>> points = castPoints(random.getList("curve").unwrapped());
    assertThat(points).hasSize(72 + 2);
    assertThat(points.get(0)).containsExactly(0.0, 0.0);
    assertThat(points.get(points.size() - 1)).containsExactly(1.0, 1.0);

    List<? extends Config> repairs = s.getConfigList("repairs");
    assertThat(repairs).extracting(c -> c.getString("method")).containsExactly("finetune-fq", "newton-removal");
    Config newton = repairs.get(1);
    assertThat(newton.getString("status")).isEqualTo("rejected");
    assertThat(newton.getString("model")).isEqualTo("model-rejected.zip");
    Config rep = RepairJobTest.report(wd, "newton-removal");
    assertThat(newton.getDouble("after.correct_holdout")).isEqualTo(rep.getDouble("after.correct_holdout"));
    assertThat(newton.getDouble("benchmark_change_points")).isCloseTo(-rep.getDouble("benchmark.drop_points"),
        within(1e-9));
    assertThat(newton.getDouble("correct_holdout_change_points")).isCloseTo(100 * (rep.getDouble("after.correct_holdout")
        - rep.getDouble("before.correct_holdout")), within(1e-9));
    assertThat(newton.getInt("candidates")).isEqualTo(rep.getConfigList("frontier").size());
    assertThat(repairs.get(0).getString("status")).isEqualTo("accepted");
    assertThat(newton.getInt("selection_size")).isEqualTo(50);

    assertThat(report.out()).contains("report: oracle finds 55.6% of the 72 corrupted training examples in its top"
        + " 10% and 100.0% in its top 20%").contains("method").contains("finetune-fq").contains("REJECTED")
        .contains("1 of 2 repairs REJECTED by the guardrail (newton-removal)").contains("report/index.html");
  }

  static Path withoutReport(Path copy) throws IOException {
    IdentifyJobTest.deleteTree(copy.resolve("report"));
    Files.deleteIfExists(copy.resolve("report.provenance.json"));
    Files.deleteIfExists(copy.resolve(".report.provenance.json.crc"));
    return copy;
  }

  @SuppressWarnings("unchecked")
  private static List<List<Double>> castPoints(Object o) {
    List<List<Double>> out = new java.util.ArrayList<>();
    for (Object p : (List<Object>) o) {
      List<Object> xy = (List<Object>) p;
      out.add(List.of(((Number) xy.get(0)).doubleValue(), ((Number) xy.get(1)).doubleValue()));
    }
    return out;
  }

  @Test
  void worksWithoutCorruptionFlagsAndWithoutRepairs() throws IOException {
    Path copy = withoutReport(StageFixture.copy(wd));
    IdentifyJobTest.deleteTree(copy.resolve("repair"));
    Path train = copy.resolve("data/train.parquet");
    Dataset<Row> clean = SharedSpark.get().read().parquet(train.toString())
        .withColumn("corruption", functions.lit("none"));
    Path cleanPath = copy.resolve("data/clean.parquet");
    clean.write().mode(SaveMode.ErrorIfExists).parquet(cleanPath.toString());
    IdentifyJobTest.deleteTree(train);
    Files.move(cleanPath, train);

    StageFixture.Run r = StageFixture.ok("report", copy, StageFixture.SMALL);
    String html = Files.readString(copy.resolve("report/index.html"));
    assertThat(html).contains("no corruption flags").contains("No repair ran").doesNotContain("<img");
    assertThat(copy.resolve("report/identification.png")).doesNotExist();
    assertThat(copy.resolve("report/repair-tradeoff.png")).doesNotExist();
    Config s = ConfigFactory.parseFile(copy.resolve("report/summary.json").toFile());
    assertThat(s.getIsNull("plots.identification")).isTrue();
    assertThat(s.getConfigList("repairs")).isEmpty();
    assertThat(s.getConfigList("identification")).hasSize(2).allSatisfy(c -> {
      assertThat(c.getInt("corrupted")).isZero();
      assertThat(c.getIsNull("area_under_curve")).isTrue();
    });
    assertThat(s.getStringList("notes")).hasSize(2);
    assertThat(r.out()).contains("report: note:").contains("2 identification method(s), 0 repair(s)");
  }

  @Test
  void nothingToReportIsBadInput() throws IOException {
    Path copy = StageFixture.copy(StageFixture.small());
    IdentifyJobTest.deleteTree(copy.resolve("rankings"));
    IdentifyJobTest.deleteTree(copy.resolve("repair"));
    withoutReport(copy);
    StageFixture.Run r = StageFixture.run("report", copy, StageFixture.SMALL);
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("nothing to report").contains("lethe identify").contains("lethe repair");
    assertThat(copy.resolve("report")).doesNotExist();
  }

  @Test
  void malformedRepairReportIsBadInputNamingIt() throws IOException {
    Path copy = withoutReport(StageFixture.copy(wd));
    Path rep = copy.resolve("repair/finetune-fq/report.json");
    Files.deleteIfExists(copy.resolve("repair/finetune-fq/.report.json.crc"));
    Files.writeString(rep, "{\"method\": \"finetune-fq\", \"status\": ");
    StageFixture.Run r = StageFixture.run("report", copy, StageFixture.SMALL);
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("repair/finetune-fq/report.json").contains("malformed JSON");
    assertThat(copy.resolve("report")).doesNotExist();
  }
}
