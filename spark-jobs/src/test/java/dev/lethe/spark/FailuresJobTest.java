package dev.lethe.spark;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lethe.data.ExampleSet;
import dev.lethe.spark.io.WorkdirLayout;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.LongStream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The failures stage's split of the test set into Fq, Fh, the benchmark cases B and the T\F holdout. */
class FailuresJobTest {
  static Path wd;

  @BeforeAll
  static void fixture() {
    wd = StageFixture.small();
  }

  static Set<Long> ids(ExampleSet s) {
    Set<Long> out = new HashSet<>();
    LongStream.of(s.ids()).forEach(out::add);
    return out;
  }

  @Test
  void correctlyClassifiedExamplesAreSplitIntoBenchmarkAndHoldout() {
    ExampleSet b = RepairJobTest.failures(wd, WorkdirLayout.BENCHMARK);
    ExampleSet r = RepairJobTest.failures(wd, WorkdirLayout.CORRECT_HOLDOUT);
    ExampleSet q = RepairJobTest.failures(wd, WorkdirLayout.QUERY);
    ExampleSet h = RepairJobTest.failures(wd, WorkdirLayout.HOLDOUT);
    assertThat(q.size() + h.size() + b.size() + r.size()).isEqualTo(300);
    // failures.benchmark-fraction = 0.5 of the correctly classified examples, rounded
    assertThat(b.size()).isEqualTo((int) Math.round(0.5 * (b.size() + r.size())));
    Set<Long> all = new HashSet<>();
    for (ExampleSet s : new ExampleSet[] {q, h, b, r}) {
      all.addAll(ids(s));
    }
    assertThat(all).hasSize(300);
    Dataset<Row> raw = SharedSpark.get().read().parquet(wd.resolve(WorkdirLayout.BENCHMARK).toString());
    assertThat(raw.filter("predicted != label").count()).isZero();
  }

  @Test
  void aUsersBenchmarkTableReplacesTheSplitAndGetsTheModelsPredictions() throws IOException {
    Path copy = StageFixture.copy(wd);
    Path mine = copy.resolve("my-benchmark.parquet");
    Dataset<Row> test = SharedSpark.get().read().parquet(copy.resolve(WorkdirLayout.TEST).toString());
    // the user's table: 25 test rows with a made-up prediction column (the stage recomputes it)
    test.orderBy("id").limit(25).selectExpr("id", "features", "label", "-1 AS predicted").write()
        .parquet(mine.toString());
    StageFixture.Run run = StageFixture.ok("failures", copy, RepairJobTest.with(StageFixture.SMALL,
        "failures.benchmark-table=\"" + mine + "\""), "--overwrite");
    ExampleSet b = RepairJobTest.failures(copy, WorkdirLayout.BENCHMARK);
    assertThat(b.size()).isEqualTo(25);
    Dataset<Row> raw = SharedSpark.get().read().parquet(copy.resolve(WorkdirLayout.BENCHMARK).toString());
    assertThat(raw.filter("predicted < 0").count()).isZero();
    // every correctly classified test example is now in the T\F holdout
    ExampleSet q = RepairJobTest.failures(copy, WorkdirLayout.QUERY);
    ExampleSet h = RepairJobTest.failures(copy, WorkdirLayout.HOLDOUT);
    ExampleSet r = RepairJobTest.failures(copy, WorkdirLayout.CORRECT_HOLDOUT);
    assertThat(q.size() + h.size() + r.size()).isEqualTo(300);
    assertThat(run.out()).contains("benchmark B 25 (from failures.benchmark-table)");

    Path empty = copy.resolve("empty.parquet");
    test.limit(0).selectExpr("id", "features", "label", "label AS predicted").write().parquet(empty.toString());
    Path again = StageFixture.copy(StageFixture.small());
    StageFixture.Run bad = StageFixture.run("failures", again, RepairJobTest.with(StageFixture.SMALL,
        "failures.benchmark-table=\"" + empty + "\""), "--overwrite");
    assertThat(bad.code()).isEqualTo(2);
    assertThat(bad.err()).contains("failures.benchmark-table").contains("empty");
    assertThat(Arrays.asList(again.resolve("failures").toFile().list())).doesNotContain("_staging");
    assertThat(again.resolve("_staging")).doesNotExist();
  }

  @Test
  void aBenchmarkFractionOutsideTheOpenUnitIntervalIsBadInput() {
    Path copy = StageFixture.copy(wd);
    for (String v : new String[] {"0", "1", "1.5"}) {
      StageFixture.Run r = StageFixture.run("failures", copy, RepairJobTest.with(StageFixture.SMALL,
          "failures.benchmark-fraction=" + v), "--overwrite");
      assertThat(r.code()).as(v).isEqualTo(2);
      assertThat(r.err()).contains("failures.benchmark-fraction").contains(v);
    }
  }
}
