package dev.lethe.tests;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lethe.math.DiagonalFisher;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input stops a stage with exit code 2, one message naming the input and the problem, and no output left
 * behind.
 */
class BadInputTest {
  @TempDir
  static Path dir;
  static Path images;
  static Path labels;

  @BeforeAll
  static void idxFiles() {
    images = IdxFiles.images(dir.resolve("images.idx"), 4);
    labels = IdxFiles.labels(dir.resolve("labels.idx"), 0, 1, 2, 3);
  }

  private static SharedSpark.Run prepareIdx(Path work, Path trainImages, Path trainLabels, String... extra) {
    return IdxFiles.prepare(work, trainImages, trainLabels, images, labels, extra);
  }

  private static void assertBadInput(SharedSpark.Run r, Path work, String... mentions) {
    assertBadInput("prepare", r, work, List.of("data"), mentions);
  }

  /**
   * Exit 2, one line on stderr from {@code stage} that contains every one of {@code mentions}, none of the stage's
   * {@code outputs} and no staging directory left in {@code work}.
   */
  private static void assertBadInput(String stage, SharedSpark.Run r, Path work, List<String> outputs,
      String... mentions) {
    System.out.printf("bad input -> exit %d: %s", r.code(), r.err());
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err()).startsWith("lethe " + stage + ": error: ").contains(mentions);
    assertThat(r.err().lines().count()).as(r.err()).isEqualTo(1);
    for (String out : outputs) {
      assertThat(work.resolve(out)).doesNotExist();
    }
    assertThat(work.resolve("_staging")).doesNotExist();
  }

  @Test
  void smallIdxFilesPrepare() {
    Path work = dir.resolve("ok");
    SharedSpark.Run r = prepareIdx(work, images, labels, "--set", "data.train-size=0", "--set", "data.test-size=0");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(work.resolve("data/train.parquet/_SUCCESS")).exists();
  }

  @Test
  void missingFile() {
    Path work = dir.resolve("missing");
    Path nope = dir.resolve("no-such-images.idx.gz");
    assertBadInput(prepareIdx(work, nope, labels), work, "data.idx.train-images", nope.toString(), "not found");
  }

  @Test
  void wrongMagicNumber() {
    Path work = dir.resolve("magic");
    assertBadInput(prepareIdx(work, labels, labels), work, labels.toString(), "wrong magic number");
  }

  @Test
  void truncatedFile() throws IOException {
    Path work = dir.resolve("truncated");
    byte[] all = Files.readAllBytes(images);
    Path cut = Files.write(dir.resolve("cut.idx"), java.util.Arrays.copyOf(all, all.length - 100));
    assertBadInput(prepareIdx(work, cut, labels), work, cut.toString(), "truncated");
  }

  @Test
  void featureLengthMismatch() {
    Path work = dir.resolve("geometry");
    assertBadInput(prepareIdx(work, images, labels, "--set", "data.height=32"), work, "784", "896");
  }

  @Test
  void parquetWithWrongFeatureLength() {
    Path table = dir.resolve("short-features.parquet");
    StructType schema = new StructType()
        .add("id", DataTypes.LongType, false)
        .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false)
        .add("label", DataTypes.IntegerType, false)
        .add("original_label", DataTypes.IntegerType, false)
        .add("corruption", DataTypes.StringType, false);
    List<Row> rows = List.of(RowFactory.create(1L, new Float[] {0f, 1f, 0.5f}, 1, 1, "none"));
    SharedSpark.session().createDataFrame(rows, schema).write().parquet(table.toString());
    Path work = dir.resolve("parquet");
    SharedSpark.Run r = SharedSpark.run("prepare", "--workdir", work.toString(), "--set", "data.source=parquet",
        "--set", "data.parquet.train=" + table, "--set", "data.parquet.test=" + table);
    assertBadInput(r, work, table.toString(), "id 1 has 3 features", "784");
  }

  @Test
  void invalidConfigNamesTheKey() {
    Path work = dir.resolve("config");
    SharedSpark.Run r = SharedSpark.run("prepare", "--workdir", work.toString(), "--set", "noise.label-flip.rate=1.5");
    assertBadInput(r, work, "noise.label-flip.rate");
    SharedSpark.Run typo = SharedSpark.run("prepare", "--workdir", work.toString(), "--set", "data.sourse=idx");
    assertBadInput(typo, work, "unknown config key 'data.sourse'");
  }

  @Test
  void laterStageWithoutItsInputSaysWhichStageToRun() {
    Path work = dir.resolve("empty");
    SharedSpark.Run r = SharedSpark.run("failures", "--workdir", work.toString());
    assertBadInput("failures", r, work, List.of("failures"), "data/test.parquet", "is missing",
        "run `lethe prepare` first");
  }

  // ---- tables, models and Fisher files of a finished workdir (SmallWorkdir), damaged one way per case ----

  private static final List<String> FISHER_OUT = List.of("fisher/diag.bin", "fisher/diag.bin.provenance.json");
  private static final List<String> TRAIN_OUT = List.of("model/base.zip", "model/base.zip.provenance.json");
  private static final List<String> IDENTIFY_OUT = List.of("rankings", "model/ewc-updated.zip");

  /** A copy of the fixture without the outputs of {@code stage} (so the stage may run without --overwrite). */
  private static Path withoutOutputs(String name, List<String> outputs) {
    Path work = SmallWorkdir.copy(name);
    outputs.forEach(o -> SmallWorkdir.delete(work.resolve(o)));
    return work;
  }

  private static long firstTrainingId() {
    return SharedSpark.session().read().parquet(SmallWorkdir.base().resolve("data/train.parquet").toString())
        .agg(functions.min("id")).first().getLong(0);
  }

  @Test
  void missingTrainingTable() {
    Path work = withoutOutputs("no-train-table", FISHER_OUT);
    SmallWorkdir.delete(work.resolve("data/train.parquet"));
    assertBadInput("fisher", SmallWorkdir.run("fisher", work), work, FISHER_OUT, "data/train.parquet",
        "is missing", "run `lethe prepare` first");
  }

  @Test
  void emptyTrainingTable() {
    Path work = withoutOutputs("empty-train-table", TRAIN_OUT);
    SmallWorkdir.rewriteTable(work, "data/train.parquet", df -> df.limit(0));
    assertBadInput("train", SmallWorkdir.run("train", work), work, List.of("model/base.zip"), "data/train.parquet",
        "the table is empty");
  }

  /** One part file (not the first: Spark infers the schema from the first only) replaced by garbage. */
  @Test
  void corruptParquetPartFile() throws IOException {
    Path work = withoutOutputs("corrupt-parquet", FISHER_OUT);
    Path table = work.resolve("data/train.parquet");
    List<Path> parts;
    try (var files = Files.list(table)) {
      parts = files.filter(p -> p.getFileName().toString().startsWith("part-")
          && p.getFileName().toString().endsWith(".parquet")).sorted().toList();
    }
    assertThat(parts).hasSizeGreaterThan(1);
    SmallWorkdir.overwrite(parts.get(parts.size() - 1), "not a parquet file at all".getBytes(StandardCharsets.UTF_8));
    assertBadInput("fisher", SmallWorkdir.run("fisher", work), work, FISHER_OUT, "data/train.parquet",
        "unreadable Parquet table: ", parts.get(parts.size() - 1).getFileName() + " is not a Parquet file");
  }

  @Test
  void missingColumn() {
    Path work = withoutOutputs("missing-column", TRAIN_OUT);
    SmallWorkdir.rewriteTable(work, "data/train.parquet", df -> df.drop("label"));
    assertBadInput("train", SmallWorkdir.run("train", work), work, List.of("model/base.zip"), "data/train.parquet",
        "missing column 'label' (expected int;");
  }

  @Test
  void wrongColumnType() {
    Path work = withoutOutputs("wrong-type", FISHER_OUT);
    SmallWorkdir.rewriteTable(work, "data/train.parquet",
        df -> df.withColumn("features", functions.col("features").cast("array<double>")));
    assertBadInput("fisher", SmallWorkdir.run("fisher", work), work, FISHER_OUT, "data/train.parquet",
        "column 'features' has type array<double>, expected array<float>");
  }

  /**
   * Replaces {@code column} of the first training row by {@code value} (SQL over that row's columns) in a copy of the
   * fixture, runs {@code stage} (fisher: checked on the executors, which stream partitions, and the task's message
   * reaches the console; train: on the driver) and expects bad input naming the table and {@code message}, with
   * {@code id} in it replaced by the row's id.
   */
  private static void badTrainingRow(String name, String stage, String column, String value, String message) {
    List<String> outputs = stage.equals("fisher") ? FISHER_OUT : TRAIN_OUT;
    Path work = withoutOutputs(name, outputs);
    long id = firstTrainingId();
    SmallWorkdir.rewriteTable(work, "data/train.parquet", df -> df.withColumn(column,
        functions.expr("IF(id = " + id + ", " + value + ", " + column + ")")));
    assertBadInput(stage, SmallWorkdir.run(stage, work), work, outputs, "data/train.parquet",
        message.replace("{id}", Long.toString(id)));
  }

  @Test
  void featureLengthDoesNotMatchTheModel() {
    badTrainingRow("short-features", "fisher", "features", "slice(features, 1, 100)",
        "id {id} has 100 features, but the model takes 784");
  }

  @Test
  void nanFeatureOnTheDriver() {
    badTrainingRow("nan-feature", "train", "features",
        "transform(features, (x, i) -> IF(i = 3, CAST('NaN' AS FLOAT), x))",
        "id {id} has a non-finite feature (NaN at position 3)");
  }

  @Test
  void infiniteFeatureOnTheExecutors() {
    badTrainingRow("inf-feature", "fisher", "features",
        "transform(features, (x, i) -> IF(i = 7, CAST('Infinity' AS FLOAT), x))",
        "id {id} has a non-finite feature (Infinity at position 7)");
  }

  /** A null inside the features array or in a column is bad input, on the executors and on the driver. */
  @Test
  void nullFeatureOnTheExecutors() {
    badTrainingRow("null-feature", "fisher", "features",
        "transform(features, (x, i) -> IF(i = 5, CAST(NULL AS FLOAT), x))",
        "id {id}: features contains a null at position 5");
  }

  @Test
  void nullLabelOnTheExecutorsAndOnTheDriver() {
    for (String stage : List.of("fisher", "train")) {
      badTrainingRow("null-label-" + stage, stage, "label", "CAST(NULL AS INT)",
          "id {id} has a null label (the column must not contain nulls)");
    }
  }

  @Test
  void labelOutOfRange() {
    List<String> out = List.of("failures");
    Path work = withoutOutputs("label-range", out);
    long id = SharedSpark.session().read().parquet(SmallWorkdir.base().resolve("data/test.parquet").toString())
        .agg(functions.max("id")).first().getLong(0);
    SmallWorkdir.rewriteTable(work, "data/test.parquet",
        df -> df.withColumn("label", functions.expr("IF(id = " + id + ", 10, label)")));
    assertBadInput("failures", SmallWorkdir.run("failures", work), work, out, "data/test.parquet",
        "id " + id + " has label 10, outside [0, 10)");
  }

  /** failures.query-classes naming a class that has no failures (here: no test example at all) stops failures. */
  @Test
  void queryClassWithoutFailures() {
    List<String> out = List.of("failures");
    Path work = withoutOutputs("query-class", out);
    SmallWorkdir.rewriteTable(work, "data/test.parquet", df -> df.filter("label != 3"));
    assertBadInput("failures", SmallWorkdir.run("failures", work, "--set", "failures.query-classes=[1, 3]"), work,
        out, "config key 'failures.query-classes'", "class 3 has no failures");
  }

  /** A duplicate in another partition: the distributed passes see one block at a time, so the read checks ids. */
  @Test
  void duplicateIds() {
    Path work = withoutOutputs("duplicate-ids", FISHER_OUT);
    long id = firstTrainingId();
    SmallWorkdir.rewriteTable(work, "data/train.parquet", df -> df.union(df.filter("id = " + id)));
    assertBadInput("fisher", SmallWorkdir.run("fisher", work), work, FISHER_OUT, "data/train.parquet",
        "duplicate id " + id + " (2 rows); ids must be unique");
  }

  /**
   * ewc-influence reads the training table on another thread while the driver runs the EWC update: the table's
   * failure is still the stage's one error, and nothing is written.
   */
  @Test
  void duplicateIdsFoundByIdentifyWhileItPrepares() {
    Path work = withoutOutputs("duplicate-ids-identify", IDENTIFY_OUT);
    long id = firstTrainingId();
    SmallWorkdir.rewriteTable(work, "data/train.parquet", df -> df.union(df.filter("id = " + id)));
    assertBadInput("identify", SmallWorkdir.run("identify", work, "--method", "ewc-influence"), work, IDENTIFY_OUT,
        "data/train.parquet", "duplicate id " + id + " (2 rows); ids must be unique");
  }

  @Test
  void emptyTrainingTableFoundByIdentifyWhileItPrepares() {
    Path work = withoutOutputs("empty-train-identify", IDENTIFY_OUT);
    SmallWorkdir.rewriteTable(work, "data/train.parquet", df -> df.limit(0));
    assertBadInput("identify", SmallWorkdir.run("identify", work, "--method", "ewc-influence"), work, IDENTIFY_OUT,
        "data/train.parquet", "the training table is empty");
  }

  @Test
  void emptyFailureQuerySet() {
    Path work = SmallWorkdir.copy("empty-fq");
    SmallWorkdir.rewriteTable(work, "failures/query.parquet", df -> df.limit(0));
    assertBadInput("identify", SmallWorkdir.run("identify", work, "--method", "ewc-influence"), work, IDENTIFY_OUT,
        "failures/query.parquet", "the failure set Fq is empty");
  }

  @Test
  void modelFileMissing() {
    Path work = withoutOutputs("no-model", FISHER_OUT);
    SmallWorkdir.delete(work.resolve("model/base.zip"));
    assertBadInput("fisher", SmallWorkdir.run("fisher", work), work, FISHER_OUT, "model/base.zip", "is missing",
        "run `lethe train` first");
  }

  @Test
  void modelFileCorrupt() {
    List<String> out = List.of("failures");
    Path work = withoutOutputs("corrupt-model", out);
    SmallWorkdir.overwrite(work.resolve("model/base.zip"), "PK\u0003\u0004 truncated".getBytes(StandardCharsets.UTF_8));
    assertBadInput("failures", SmallWorkdir.run("failures", work), work, out, "model/base.zip",
        "not a readable model file");
  }

  @Test
  void fisherOfAnotherSize() {
    Path work = SmallWorkdir.copy("fisher-size");
    DiagonalFisher other = new DiagonalFisher(new double[10], 200, "0123456789abcdef");
    SmallWorkdir.overwrite(work.resolve("fisher/diag.bin"), other.toBytes());
    assertBadInput("identify", SmallWorkdir.run("identify", work, "--method", "ewc-influence"), work, IDENTIFY_OUT,
        "fisher/diag.bin", "Fisher from another model: it has 10 values, the model has 7850 parameters");
  }

  /**
   * A Fisher file with a valid checksum but values no Fisher diagonal has (written by another tool): identify stops
   * naming the file and the first bad index instead of ranking by meaningless scores.
   */
  @Test
  void fisherWithNonFiniteOrNegativeValues() throws IOException {
    for (double bad : new double[] {Double.NaN, -0.5}) {
      Path work = withoutOutputs("fisher-" + bad, IDENTIFY_OUT);
      Path file = work.resolve("fisher/diag.bin");
      DiagonalFisher f = DiagonalFisher.fromBytes(Files.readAllBytes(file), file.toString());
      double[] values = f.values().clone();
      values[17] = bad;
      SmallWorkdir.overwrite(file, new DiagonalFisher(values, f.count(), f.modelFingerprint()).toBytes());
      assertBadInput("identify", SmallWorkdir.run("identify", work, "--method", "ewc-influence"), work, IDENTIFY_OUT,
          "fisher/diag.bin", "not a Fisher diagonal: value " + bad + " at index 17 (every value must be finite and"
              + " >= 0)");
    }
  }

  /** A record's check names the config key, never the Java field behind it. */
  @Test
  void recordChecksNameTheConfigKey() {
    Path work = dir.resolve("keys");
    assertBadInput("identify", SharedSpark.run("identify", "--workdir", work.toString(), "--set",
        "identify.batch-size=0"), work, List.of("rankings"), "config key 'identify.batch-size': must be >= 1, got 0");
    assertBadInput("identify", SharedSpark.run("identify", "--workdir", work.toString(), "--set",
        "identify.ewc.learning-rate=-1"), work, List.of("rankings"),
        "config key 'identify.ewc.learning-rate': must be finite and > 0, got -1.0");
    assertBadInput("train", SharedSpark.run("train", "--workdir", work.toString(), "--set", "train.batch-size=0"),
        work, List.of("model"), "config key 'train.batch-size': must be > 0, got 0");
  }

  /** The real launcher path: a separate JVM running the application jar exits with status 2. */
  @Test
  void applicationJarExitsWithStatusTwo() throws Exception {
    Path work = dir.resolve("process");
    AppJar.Run r = AppJar.run(List.of("prepare",
        "--workdir", work.toString(), "--set", "data.source=idx", "--set", "data.idx.train-images=/nonexistent/x.gz",
        "--set", "data.idx.train-labels=" + labels, "--set", "data.idx.test-images=" + images,
        "--set", "data.idx.test-labels=" + labels, "--master", "local[1]"));
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("lethe prepare: error: data.idx.train-images /nonexistent/x.gz: file not found");
    assertThat(work.resolve("data")).doesNotExist();
  }
}
