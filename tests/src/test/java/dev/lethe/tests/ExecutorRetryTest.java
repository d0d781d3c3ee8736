package dev.lethe.tests;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * Executor failures: with {@link FailFirstAttemptFileSystem} every task that reads the training table fails its first
 * attempt. Run from the application jar with master {@code local[2,2]} (two attempts per task), identify must retry
 * and write the same ranking table as a clean run, with every training id once.
 */
class ExecutorRetryTest {

  @Test
  void retriedScoringTasksGiveTheCleanRunsTable() throws Exception {
    Path clean = SmallWorkdir.copy("retry-clean");
    SharedSpark.Run ref = SmallWorkdir.run("identify", clean, "--method", "ewc-influence");
    assertThat(ref.code()).as(ref.err()).isZero();

    Path faulty = SmallWorkdir.copy("retry-faulty");
    List<String> args = new ArrayList<>(List.of("identify", "--method", "ewc-influence", "--master", "local[2,2]"));
    args.addAll(List.of(SmallWorkdir.args(faulty)));
    AppJar.Run r = AppJar.run(FailFirstAttemptFileSystem.JVM_OPTIONS, true, args);
    assertThat(r.code()).as(r.err()).isZero();
    // tasks failed and were retried
    assertThat(r.err()).as(r.err()).contains(FailFirstAttemptFileSystem.INJECTED);
    assertThat(r.out()).contains("identify: ewc-influence scored 200 training examples");

    List<Row> expected = culprits(clean);
    List<Row> actual = culprits(faulty);
    assertThat(actual).hasSize(200);
    assertThat(actual.stream().map(x -> x.getLong(0)).distinct().count()).isEqualTo(200);
    List<Long> trainIds = SharedSpark.session().read().parquet(clean.resolve("data/train.parquet").toString())
        .select("id").orderBy("id").as(Encoders.LONG()).collectAsList();
    assertThat(actual.stream().map(x -> x.getLong(0)).sorted().toList()).isEqualTo(trainIds);
    for (int i = 0; i < expected.size(); i++) {
      Row e = expected.get(i);
      Row a = actual.get(i);
      assertThat(a.getLong(0)).as("id at rank %d", i + 1).isEqualTo(e.getLong(0));
      assertThat(a.getLong(2)).isEqualTo(i + 1L);
      // bit for bit: the same rows, the same updated model, the same double-precision arithmetic
      assertThat(Double.doubleToLongBits(a.getDouble(1))).as("score of id %d", e.getLong(0))
          .isEqualTo(Double.doubleToLongBits(e.getDouble(1)));
      assertThat(a.getDouble(4)).isEqualTo(e.getDouble(4));
      assertThat(a.getDouble(5)).isEqualTo(e.getDouble(5));
    }
  }

  private static List<Row> culprits(Path work) {
    Path table = work.resolve("rankings/ewc-influence.parquet");
    assertThat(table.resolve("_SUCCESS")).exists();
    return SharedSpark.session().read().parquet(table.toString()).orderBy("rank").collectAsList();
  }
}
