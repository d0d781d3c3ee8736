package dev.lethe.spark;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lethe.spark.io.ExampleTables;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.SaveMode;
import org.junit.jupiter.api.Test;

/**
 * Bad settings of the data-valuation methods stop identify (or repair) with exit code 2, one line on stderr naming
 * the key, and nothing written.
 */
class ValuationBadInputTest {

  private static List<String> with(String... more) {
    List<String> l = new ArrayList<>(StageFixture.SMALL);
    l.addAll(List.of(more));
    return l;
  }

  private static void assertBadInput(StageFixture.Run r, Path wd, String output, String... mentions) {
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err().lines().count()).as(r.err()).isEqualTo(1);
    assertThat(r.err()).contains(mentions);
    assertThat(wd.resolve(output)).doesNotExist();
    assertThat(wd.resolve("_staging")).doesNotExist();
  }

  @Test
  void pumaMetricSettings() {
    Path wd = StageFixture.newDir("valuation-bad");
    String out = "rankings/puma.parquet";
    assertBadInput(StageFixture.run("identify", wd, with("identify.puma.metric=accuracy"), "--method", "puma"), wd,
        out, "identify.puma.metric", "accuracy");
    assertBadInput(StageFixture.run("identify", wd, with("identify.puma.metric=\"class-recall:10\""), "--method",
        "puma"), wd, out, "identify.puma.metric", "out of range");
    assertBadInput(StageFixture.run("identify", wd, with("identify.puma.calibration-set=train"), "--method", "puma"),
        wd, out, "identify.puma.calibration-set");
  }

  @Test
  void shapleyBudgetOfZero() {
    Path wd = StageFixture.newDir("valuation-bad-budget");
    assertBadInput(StageFixture.run("identify", wd, with("identify.tmc-shapley.max-permutations=0"), "--method",
        "tmc-shapley"), wd, "rankings/tmc-shapley.parquet", "identify.tmc-shapley.max-permutations");
  }

  @Test
  void emptyCalibrationSet() throws IOException {
    Path wd = StageFixture.copy(StageFixture.small());
    IdentifyJobTest.deleteTree(wd.resolve("rankings"));
    IdentifyJobTest.deleteTree(wd.resolve("failures/benchmark.parquet"));
    SharedSpark.get().createDataFrame(List.of(), ExampleTables.FAILURES).write().mode(SaveMode.ErrorIfExists)
        .parquet(wd.resolve("failures/benchmark.parquet").toString());
    assertBadInput(StageFixture.run("identify", wd, with("identify.puma.metric=calibration",
        "identify.puma.calibration-set=benchmark"), "--method", "puma"), wd, "rankings/puma.parquet",
        "identify.puma.calibration-set", "empty");
  }

  @Test
  void negativeSelectionNeedsAValueTable() {
    Path wd = StageFixture.newDir("valuation-bad-repair");
    assertBadInput(StageFixture.run("repair", wd, with("repair.selection=negative", "repair.ranking=linear-cg"),
        "--method", "finetune"), wd, "repair/finetune", "repair.selection", "linear-cg");
  }
}
