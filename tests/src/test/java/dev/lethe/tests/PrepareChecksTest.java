package dev.lethe.tests;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lethe.spark.io.ExampleTables;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.IntFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.Test;

/**
 * What {@code prepare} refuses from any source before it writes anything: too few rows or classes, features outside
 * {@code data.feature-range} (with {@code data.rescale} to accept 8-bit pixels explicitly), and the inputs named as
 * given (the label file, a directory where a file belongs, a corruption value).
 */
class PrepareChecksTest {
  private static final Path dir = SmallWorkdir.newDir("prepare-checks");
  /** The test split of every IDX case: 4 black images of classes 0 to 3. */
  private static final Path images = IdxFiles.images(dir.resolve("images.idx"), 4);
  private static final Path labels = IdxFiles.labels(dir.resolve("labels.idx"), 0, 1, 2, 3);

  private static SharedSpark.Run prepareIdx(Path work, Path trainImages, Path trainLabels) {
    return IdxFiles.prepare(work, trainImages, trainLabels, images, labels, "--set", "data.train-size=0", "--set",
        "data.test-size=0");
  }

  /** A Parquet table of {@code n} rows: id i + 1, label {@code label(i)}, every feature {@code value(i)}. */
  private static Path table(String name, int n, IntFunction<Integer> label, IntFunction<Float> value,
      String corruption) {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Float[] f = new Float[IdxFiles.PIXELS];
      Arrays.fill(f, value.apply(i));
      rows.add(RowFactory.create(i + 1L, f, label.apply(i), label.apply(i), corruption));
    }
    Path t = dir.resolve(name + ".parquet");
    SharedSpark.session().createDataFrame(rows, ExampleTables.DATA).write().parquet(t.toString());
    return t;
  }

  private static Path goodTable(String name) {
    return table(name, 10, i -> i % 2, i -> 0.5f, "none");
  }

  private static SharedSpark.Run prepareParquet(Path work, Path train, Path test, String... extra) {
    List<String> a = new ArrayList<>(List.of("--workdir", work.toString(), "--set", "data.source=parquet",
        "--set", "data.parquet.train=" + train, "--set", "data.parquet.test=" + test,
        "--set", "data.train-size=0", "--set", "data.test-size=0"));
    a.addAll(List.of(extra));
    return SharedSpark.run("prepare", a.toArray(new String[0]));
  }

  /** Exit 2, exactly {@code line} on stderr, nothing written. */
  private static void assertRefused(SharedSpark.Run r, Path work, String line) {
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err().lines().toList()).containsExactly(line);
    assertThat(work.resolve("data")).doesNotExist();
    assertThat(work.resolve("_staging")).doesNotExist();
  }

  @Test
  void idxPairWithNoImages() {
    Path work = dir.resolve("no-images");
    Path none = IdxFiles.images(dir.resolve("none.idx"), 0);
    Path noLabels = IdxFiles.labels(dir.resolve("no-labels.idx"));
    assertRefused(prepareIdx(work, none, noLabels), work, "lethe prepare: error: data.idx.train-images/-labels ("
        + none + ", " + noLabels + "): 0 examples; prepare needs at least 2 per split");
  }

  @Test
  void parquetTableWithOneRow() {
    Path work = dir.resolve("one-row");
    Path one = table("one-row", 1, i -> 0, i -> 0.5f, "none");
    assertRefused(prepareParquet(work, one, goodTable("test-for-one-row")), work, "lethe prepare: error:"
        + " data.parquet.train (" + one + "): 1 examples; prepare needs at least 2 per split");
  }

  @Test
  void subsampleOfOneRow() {
    Path work = dir.resolve("train-size-1");
    Path good = goodTable("good-for-size");
    assertRefused(prepareParquet(work, good, good, "--set", "data.train-size=1"), work, "lethe prepare: error:"
        + " config key 'data.train-size': 1 keeps 1 examples; at least 2 are needed");
  }

  @Test
  void trainingDataOfOneClass() {
    Path work = dir.resolve("one-class");
    Path oneClass = table("one-class", 6, i -> 3, i -> 0.5f, "none");
    assertRefused(prepareParquet(work, oneClass, goodTable("test-for-one-class")), work, "lethe prepare: error:"
        + " training data: every example has label 3; a classifier needs at least 2 classes");
  }

  /** 8-bit pixels stop prepare with a hint; data.rescale = from-0-255 accepts them, scaled to [0, 1]. */
  @Test
  void pixelsOnTheByteScale() {
    Path work = dir.resolve("bytes");
    Path bytes = table("bytes", 6, i -> i % 2, i -> (float) (i * 51), "none");
    Path test = goodTable("test-for-bytes");
    assertRefused(prepareParquet(work, bytes, test), work, "lethe prepare: error: data.parquet.train (" + bytes
        + "): id 2 has feature 51.0 at position 0, outside data.feature-range [0, 1] (8-bit pixels? set data.rescale"
        + " = from-0-255)");

    SharedSpark.Run ok = prepareParquet(work, bytes, test, "--set", "data.rescale=from-0-255");
    assertThat(ok.code()).as(ok.err()).isZero();
    Row range = SharedSpark.session().read().parquet(work.resolve("data/train.parquet").toString())
        .select(functions.explode(functions.col("features")).as("x"))
        .agg(functions.min("x"), functions.max("x")).first();
    assertThat(range.getFloat(0)).isZero();
    assertThat(range.getFloat(1)).isEqualTo(1f);
  }

  /** One huge value (it gave an untrained model and then an internal error in fisher). */
  @Test
  void hugeFeatureValue() {
    Path work = dir.resolve("huge");
    Path huge = table("huge", 6, i -> i % 2, i -> i == 4 ? 3e38f : 0.5f, "none");
    assertRefused(prepareParquet(work, huge, goodTable("test-for-huge")), work, "lethe prepare: error:"
        + " data.parquet.train (" + huge + "): id 5 has feature 3.0E38 at position 0, outside data.feature-range"
        + " [0, 1]");
  }

  @Test
  void declaredFeatureRange() {
    Path work = dir.resolve("declared-range");
    Path wide = table("wide", 6, i -> i % 2, i -> i - 2f, "none");
    SharedSpark.Run r = prepareParquet(work, wide, goodTable("test-for-wide"), "--set", "data.feature-range=[-1, 1]");
    assertRefused(r, work, "lethe prepare: error: data.parquet.train (" + wide + "): id 1 has feature -2.0 at"
        + " position 0, outside data.feature-range [-1, 1]");
    SharedSpark.Run bad = prepareParquet(work, wide, wide, "--set", "data.feature-range=[1, 0]");
    assertRefused(bad, work, "lethe prepare: error: config key 'data.feature-range': expected [min, max] with"
        + " finite min < max, got [1.0, 0.0]");
  }

  @Test
  void labelOutsideTheClassesNamesTheLabelFile() {
    Path work = dir.resolve("label-90");
    Path bad = IdxFiles.labels(dir.resolve("labels-90.idx"), 0, 1, 90, 3);
    assertRefused(prepareIdx(work, images, bad), work, "lethe prepare: error: data.idx.train-images/-labels ("
        + images + ", " + bad + "): id 2 has label 90, outside [0, 10)");
  }

  @Test
  void directoryWhereAFileBelongs() {
    Path work = dir.resolve("directory");
    assertRefused(prepareIdx(work, dir, labels), work, "lethe prepare: error: data.idx.train-images " + dir
        + ": is a directory, expected a file");
  }

  @Test
  void corruptionValueIsShownAsGiven() {
    Path work = dir.resolve("corruption");
    Path odd = table("odd-corruption", 4, i -> i % 2, i -> 0.5f, "Label_Flip");
    SharedSpark.Run r = prepareParquet(work, odd, goodTable("test-for-odd"));
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err()).contains("unknown corruption 'Label_Flip'");
  }
}
