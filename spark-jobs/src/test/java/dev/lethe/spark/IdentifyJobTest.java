package dev.lethe.spark;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lethe.data.ExampleSet;
import dev.lethe.influence.ScoredBlock;
import dev.lethe.influence.Scorer;
import dev.lethe.influence.ScorerSpec;
import dev.lethe.math.DiagonalFisher;
import dev.lethe.spark.io.RankingTables;
import dev.lethe.spark.io.ExampleTables;
import dev.lethe.spark.io.WorkdirLayout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.unsafe.types.UTF8String;
import org.apache.spark.util.LongAccumulator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IdentifyJobTest {
  /** Cheap linear-influence settings for the 400-row fixture. */
  private static final List<String> FAST = Stream.concat(StageFixture.SMALL.stream(), Stream.of(
      "identify.linear.curvature-samples=150", "identify.linear.cg.max-iterations=30",
      "identify.linear.lissa.depth=100", "identify.tmc-shapley.max-permutations=4",
      "identify.tmc-shapley.check-every=2", "identify.tmc-shapley.fit-max-iterations=5")).toList();

  @ParameterizedTest
  @ValueSource(strings = {"ewc-influence", "linear-cg", "linear-lissa", "random", "oracle", "puma", "knn-shapley",
      "tmc-shapley"})
  void everyMethodRanksEveryTrainingExampleOnce(String method) {
    Path wd = StageFixture.small();
    StageFixture.Run r = StageFixture.ok("identify", wd, FAST, "--method", method, "--overwrite");
    assertThat(r.out()).contains("identify: " + method + " scored 400 training examples").contains("r(z) > 0 for")
        .contains("random baseline").containsPattern("lethe identify: finished in \\d+\\.\\d s; peak memory:"
            + " resident [1-9]\\d+ MB, JVM heap [1-9]\\d* MB");
    List<Row> rows = culprits(wd, method);
    assertThat(rows).hasSize(400);
    long[] trainIds = SharedSpark.get().read().parquet(wd.resolve("data/train.parquet").toString()).select("id")
        .as(org.apache.spark.sql.Encoders.LONG()).collectAsList().stream().mapToLong(Long::longValue).sorted()
        .toArray();
    long[] ids = rows.stream().mapToLong(x -> x.getLong(0)).sorted().toArray();
    assertThat(ids).containsExactly(trainIds);
    for (int i = 0; i < rows.size(); i++) {
      Row row = rows.get(i);
      assertThat(row.getLong(2)).isEqualTo(i + 1L);
      assertThat(row.getString(6)).isEqualTo(method);
      assertThat(Double.isFinite(row.getDouble(1))).isTrue();
      if (i > 0) {
        Row prev = rows.get(i - 1);
        // rank 1 = highest score; ties broken by the smaller id
        assertThat(prev.getDouble(1) > row.getDouble(1)
            || prev.getDouble(1) == row.getDouble(1) && prev.getLong(0) < row.getLong(0)).isTrue();
      }
    }
    if (method.equals("ewc-influence")) {
      assertThat(wd.resolve("model/ewc-updated.zip")).exists();
      assertThat(wd.resolve("model/ewc-updated.zip.provenance.json")).exists();
      Row top = rows.get(0);
      assertThat(top.getDouble(1)).isCloseTo(top.getDouble(4) - top.getDouble(5),
          org.assertj.core.api.Assertions.within(1e-12));
    }
    if (method.equals("oracle")) {
      assertThat(r.out()).contains("top 1% 100.0%");
    }
    if (method.equals("tmc-shapley")) {
      // the permutations run, the convergence error and each round's rank correlation with the last are on record
      com.typesafe.config.Config d = RankingTables.provenance(dev.lethe.spark.io.Workdir.open(wd.toString(),
          SharedSpark.get().sparkContext().hadoopConfiguration(), false), method).getConfig("diagnostics");
      assertThat(d.getInt("permutations")).isEqualTo(4);
      assertThat(d.hasPath("convergenceError")).isTrue();
      List<? extends com.typesafe.config.Config> rounds = d.getConfigList("rounds");
      assertThat(rounds).hasSize(2);
      assertThat(rounds.get(0).getInt("permutations")).isEqualTo(2);
      assertThat(rounds.get(0).hasPath("spearman")).isFalse();
      assertThat(rounds.get(1).getInt("permutations")).isEqualTo(4);
      assertThat(rounds.get(1).getDouble("spearman")).isBetween(-1.0, 1.0);
    }
    assertThat(wd.resolve("rankings/" + method + ".parquet.provenance.json")).exists();
    // ewc-influence prepares from theta_hat, the Fisher and Fq: the training table is read meanwhile; the linear
    // methods (full curvature) sample it first
    com.typesafe.config.Config p = RankingTables.provenance(dev.lethe.spark.io.Workdir.open(wd.toString(),
        SharedSpark.get().sparkContext().hadoopConfiguration(), false), method);
    assertThat(p.getBoolean("train_read_overlapped")).isEqualTo(method.equals("ewc-influence")
        || java.nio.file.Files.exists(wd.resolve(WorkdirLayout.FISHER_DIAG)) && !method.startsWith("linear-")
        && !List.of("puma", "knn-shapley", "tmc-shapley").contains(method));
    assertThat(p.getDouble("train_read_seconds")).isPositive();
    assertThat(p.getDouble("read_seconds")).isPositive();
    // the JIT compilation during the scoring pass: this JVM's growth over the pass (HotSpot reports it), not its
    // total so far; a compilation that ends in the pass counts whole, so the bound is loose
    double jit = p.getDouble("scoring_pass_jit_seconds");
    assertThat(jit).isBetween(0.0, 2 * p.getDouble("scoring_pass_seconds") + 2.0);
    assertThat(IdentifyJob.jitMillis() / 1e3).isGreaterThan(jit);
    // the BLAS build's kernel choice is the benchmarks' record
    assertThat(p.hasPath("versions.openblas_kernels")).isFalse();
  }

  /**
   * Scores are computed in double precision (float models rebuilt as double on the executors), so a row's score
   * does not depend on the batch or partition it lands in beyond double rounding: every score must agree within
   * 1e-9 relative (1e-300 absolute for an exact zero) with 1, 3 and 7 partitions and on a rerun, and the top 10%
   * must hold the same ids. The largest relative deviation seen is printed.
   */
  @ParameterizedTest
  @ValueSource(strings = {"ewc-influence", "linear-cg", "linear-lissa", "puma", "knn-shapley", "tmc-shapley"})
  void culpritsDoNotDependOnPartitioningAndRepeatOnRerun(String method) {
    Path wd = StageFixture.small();
    List<Row> reference = null;
    double worst = 0;
    for (int p : new int[] {1, 3, 7, 3}) {
      List<String> sets = new ArrayList<>(FAST);
      sets.add("identify.partitions=" + p);
      StageFixture.ok("identify", wd, sets, "--method", method, "--overwrite");
      List<Row> rows = culprits(wd, method);
      if (reference == null) {
        reference = rows;
        continue;
      }
      assertThat(rows).hasSameSizeAs(reference);
      java.util.Map<Long, Double> byId = new java.util.HashMap<>();
      rows.forEach(r -> byId.put(r.getLong(0), r.getDouble(1)));
      for (int i = 0; i < rows.size(); i++) {
        long id = reference.get(i).getLong(0);
        double b = reference.get(i).getDouble(1);
        assertThat(byId).containsKey(id);
        double dev = Math.abs(byId.get(id) - b);
        assertThat(dev).as("score of id %d with %d partitions", id, p)
            .isLessThanOrEqualTo(Math.max(1e-9 * Math.abs(b), 1e-300));
        if (b != 0) {
          worst = Math.max(worst, dev / Math.abs(b));
        }
      }
      int top = rows.size() / 10;
      assertThat(rows.subList(0, top).stream().map(r -> r.getLong(0)).toList())
          .containsExactlyInAnyOrderElementsOf(reference.subList(0, top).stream().map(r -> r.getLong(0)).toList());
    }
    System.out.printf("%s: largest relative score deviation across 1, 3, 7 partitions and rerun: %.3g%n", method,
        worst);
  }

  @Test
  void scoringPartitionsComeFromTheScanUnlessItHasFewer() throws IOException {
    // the small workdir's training table as prepare wrote it: one file per partition of the local[2] session
    org.apache.spark.sql.Dataset<Row> train = ExampleTables.read(SharedSpark.get(),
        StageFixture.small().resolve("data/train.parquet").toString(), ExampleTables.DATA, "train");
    int scanned = train.javaRDD().getNumPartitions();
    assertThat(scanned).isEqualTo(2);
    List<Long> ids = train.javaRDD().map(r -> r.getLong(r.fieldIndex("id"))).collect();
    for (int p : new int[] {1, 2, 5}) {
      org.apache.spark.api.java.JavaRDD<InternalRow> rows = ExampleTables.inPartitions(train, p);
      assertThat(rows.getNumPartitions()).as("partitions for %d", p).isEqualTo(p);
      // every row exactly once, whichever way it was split
      assertThat(rows.map(r -> r.getLong(0)).collect()).containsExactlyInAnyOrderElementsOf(ids);
      // as many as the scan: its own partitions, not shuffled (the same rows in the same order); fewer: no
      // shuffle either (coalesced); more: a shuffle
      boolean shuffled = rows.rdd().toDebugString().contains("Shuffled");
      assertThat(shuffled).as("shuffled for %d", p).isEqualTo(p > scanned);
      if (p == scanned) {
        assertThat(rows.map(r -> r.getLong(0)).collect()).containsExactlyElementsOf(ids);
      }
    }
    assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> ExampleTables.inPartitions(train, 0)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("partitions must be >= 1");
  }

  @Test
  void fisherOfAnotherModelIsBadInputAndWritesNothing() throws IOException {
    Path wd = StageFixture.copy(StageFixture.small());
    Files.deleteIfExists(wd.resolve("rankings/ewc-influence.parquet"));
    DiagonalFisher real = DiagonalFisher.fromBytes(Files.readAllBytes(wd.resolve("fisher/diag.bin")), "diag");
    Files.deleteIfExists(wd.resolve("fisher/.diag.bin.crc"));
    Files.write(wd.resolve("fisher/diag.bin"), new DiagonalFisher(real.values(), real.count(), "0123456789abcdef")
        .toBytes());
    StageFixture.Run r = StageFixture.run("identify", wd, StageFixture.SMALL, "--method", "ewc-influence",
        "--overwrite");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("Fisher from another model").contains("fisher/diag.bin");
    assertThat(wd.resolve("rankings/ewc-influence.parquet")).doesNotExist();
    assertThat(wd.resolve("_staging")).doesNotExist();
  }

  @Test
  void missingFailuresIsBadInputNamingTheFile() throws IOException {
    Path wd = StageFixture.copy(StageFixture.small());
    deleteTree(wd.resolve("failures"));
    StageFixture.Run r = StageFixture.run("identify", wd, StageFixture.SMALL, "--method", "random", "--overwrite");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("failures/query.parquet").contains("missing").contains("lethe failures");
    assertThat(wd.resolve("rankings")).doesNotExist();
  }

  @Test
  void emptyFailureSetIsBadInput() throws IOException {
    Path wd = StageFixture.copy(StageFixture.small());
    deleteTree(wd.resolve("failures/query.parquet"));
    SharedSpark.get().createDataFrame(List.of(), ExampleTables.FAILURES).write().mode(SaveMode.ErrorIfExists)
        .parquet(wd.resolve("failures/query.parquet").toString());
    StageFixture.Run r = StageFixture.run("identify", wd, StageFixture.SMALL, "--method", "ewc-influence");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("failures/query.parquet").contains("Fq is empty");
    assertThat(wd.resolve("rankings")).doesNotExist();
  }

  @Test
  void unknownMethodIsBadInputListingTheMethods() {
    StageFixture.Run r = StageFixture.run("identify", StageFixture.newDir("unknown"), List.of(), "--method",
        "influence-magic");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("influence-magic")
        .contains("ewc-influence, linear-cg, linear-lissa, random, oracle");
  }

  @Test
  void existingOutputIsNotOverwrittenWithoutTheFlag() {
    Path wd = StageFixture.small();
    StageFixture.ok("identify", wd, StageFixture.SMALL, "--method", "random", "--overwrite");
    StageFixture.Run r = StageFixture.run("identify", wd, StageFixture.SMALL, "--method", "random");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("rankings/random.parquet").contains("--overwrite");
  }

  /**
   * Issue 6, memory: a scoring task must not buffer its partition. The per-partition iterator may read only one
   * block of rows ahead of what it has handed out, and must close its scorer once the partition is exhausted.
   */
  @Test
  void scoringReadsOneBlockAheadAndClosesTheScorer() {
    int features = 4;
    int blockRows = 8;
    int total = 50;
    int[] pulled = {0};
    int[] opened = {0};
    int[] closed = {0};
    // one row object, overwritten for every row, as Spark's scans do: the blocks must copy each row out
    GenericInternalRow row = new GenericInternalRow(5);
    Iterator<InternalRow> rows = new Iterator<>() {
      @Override
      public boolean hasNext() {
        return pulled[0] < total;
      }

      @Override
      public InternalRow next() {
        long id = pulled[0]++;
        row.setLong(0, id);
        row.update(1, ArrayData.toArrayData(new float[] {id, 0.2f, 0.3f, 0.4f}));
        row.setInt(2, (int) (id % 3));
        row.setInt(3, (int) (id % 3));
        row.update(4, UTF8String.fromString("none"));
        return row;
      }
    };
    ScorerSpec spec = () -> {
      opened[0]++;
      return new Scorer() {
        @Override
        public ScoredBlock score(ExampleSet block) {
          double[] s = new double[block.size()];
          for (int i = 0; i < s.length; i++) {
            assertThat(block.features(i)[0]).as("features of id %d", block.id(i)).isEqualTo((float) block.id(i));
            assertThat(block.label(i)).isEqualTo((int) (block.id(i) % 3));
            s[i] = -block.id(i);
          }
          return new ScoredBlock(s, s.clone(), s.clone());
        }

        @Override
        public void close() {
          closed[0]++;
        }
      };
    };
    LongAccumulator done = SharedSpark.get().sparkContext().longAccumulator();
    Iterator<IdentifyJob.Scored> scored = IdentifyJob.score(rows, spec, blockRows, features, 3, 1, "test rows",
        "test", done);
    assertThat(pulled[0]).as("rows read before the first result is asked for").isLessThanOrEqualTo(blockRows);
    long handedOut = 0;
    while (scored.hasNext()) {
      IdentifyJob.Scored s = scored.next();
      assertThat(s.id()).isEqualTo(handedOut);
      assertThat(s.score()).isEqualTo(-handedOut);
      handedOut++;
      assertThat(pulled[0] - handedOut).as("rows read but not yet handed out").isLessThan(blockRows);
      assertThat(closed[0]).as("scorer closed before the last row").isZero();
    }
    assertThat(handedOut).isEqualTo(total);
    assertThat(done.value()).isEqualTo(total);
    assertThat(opened[0]).isEqualTo(1);
    assertThat(closed[0]).as("scorer closed once at the end of the partition").isEqualTo(1);
  }

  static List<Row> culprits(Path wd, String method) {
    Path p = wd.resolve("rankings/" + method + ".parquet");
    assertThat(p.resolve("_SUCCESS")).exists();
    return SharedSpark.get().read().parquet(p.toString()).orderBy("rank").collectAsList();
  }

  static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(p)) {
      for (Path q : walk.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
        Files.delete(q);
      }
    }
  }
}
