package dev.lethe.spark.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lethe.LetheInputException;
import dev.lethe.data.ExampleSet;
import dev.lethe.spark.SharedSpark;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import scala.collection.mutable.WrappedArray;

/** {@link ExampleTables#readTable}: the row count it takes from the uniqueness check, and that check's message. */
class ExampleTablesTest {
  @TempDir
  Path dir;

  private static ExampleSet examples(long[] ids) {
    float[][] f = new float[ids.length][];
    int[] y = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      f[i] = new float[] {i / 10f, 1 - i / 10f};
      y[i] = i % 3;
    }
    return ExampleSet.clean(ids, f, y, 2);
  }

  @Test
  void countsTheRowsOfEveryPartAndKeepsTheRequiredColumns() {
    SparkSession spark = SharedSpark.get();
    long[] ids = new long[37];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = 1000 - 7L * i;
    }
    String path = dir.resolve("train.parquet").toString();
    // an extra column, which the read drops, and three part files
    ExampleTables.dataFrame(spark, examples(ids), 3).withColumn("extra", org.apache.spark.sql.functions.lit(1))
        .write().parquet(path);

    ExampleTables.Table t = ExampleTables.readTable(spark, path, ExampleTables.DATA, "data/train.parquet");

    assertThat(t.count()).isEqualTo(37);
    assertThat(t.rows().columns()).containsExactly(ExampleTables.DATA.fieldNames());
    assertThat(t.rows().count()).isEqualTo(37);
  }

  @Test
  void writtenTablesKeepPlainFeaturesSortedByIdAndNeverOverwrite() throws Exception {
    SparkSession spark = SharedSpark.get();
    long[] ids = new long[300];
    float[][] f = new float[ids.length][];
    int[] y = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = (i * 37L) % 300;
      // 4 distinct values: the writer's default would dictionary-encode them
      f[i] = new float[] {i % 4 / 4f, 1, 0, (i + 1) % 4 / 4f};
      y[i] = i % 3;
    }
    ExampleSet s = ExampleSet.clean(ids, f, y, 4);
    String path = dir.resolve("train.parquet").toString();
    ExampleTables.write(ExampleTables.dataFrame(spark, s, 2), path);

    org.apache.hadoop.conf.Configuration conf = spark.sparkContext().hadoopConfiguration();
    java.io.File[] parts = new java.io.File(path).listFiles((d, n) -> n.endsWith(".parquet"));
    assertThat(parts).hasSize(2);
    for (java.io.File part : parts) {
      var footer = org.apache.parquet.hadoop.ParquetFileReader.readFooter(conf,
          new org.apache.hadoop.fs.Path(part.getPath()));
      for (var block : footer.getBlocks()) {
        var features = block.getColumns().stream().filter(c -> c.getPath().toDotString().startsWith("features"))
            .findFirst().orElseThrow();
        assertThat(features.getEncodings()).as(part.getName()).contains(org.apache.parquet.column.Encoding.PLAIN)
            .doesNotContain(org.apache.parquet.column.Encoding.PLAIN_DICTIONARY,
                org.apache.parquet.column.Encoding.RLE_DICTIONARY);
      }
    }
    ExampleSet back = ExampleTables.readCollected(spark, path, ExampleTables.DATA, "train", false, 4, 3, "test");
    assertThat(back.size()).isEqualTo(300);
    for (int i = 0; i < back.size(); i++) {
      int row = (int) back.id(i);
      int k = java.util.stream.IntStream.range(0, ids.length).filter(j -> ids[j] == row).findFirst().orElseThrow();
      assertThat(back.features(i)).as("id %d", row).containsExactly(f[k]);
      assertThat(back.label(i)).isEqualTo(y[k]);
    }
    assertThatThrownBy(() -> ExampleTables.write(ExampleTables.dataFrame(spark, s, 2), path))
        .hasMessageContaining("already exists");
  }

  @Test
  void anEmptyTableHasNoRows() {
    SparkSession spark = SharedSpark.get();
    String path = dir.resolve("empty.parquet").toString();
    ExampleTables.dataFrame(spark, examples(new long[0]), 2).write().parquet(path);

    assertThat(ExampleTables.readTable(spark, path, ExampleTables.DATA, "data/train.parquet").count()).isZero();
  }

  @Test
  void aDuplicateIdIsNamedWithItsCountTheSmallestFirst() {
    SparkSession spark = SharedSpark.get();
    long[] ids = {5, 9, 3, 9, 3, 9, 4};
    List<Row> rows = new ArrayList<>();
    for (long id : ids) {
      rows.add(RowFactory.create(id, WrappedArray.make(new float[] {0f, 1f}), 1, 1, "none"));
    }
    String path = dir.resolve("dup.parquet").toString();
    spark.createDataFrame(rows, ExampleTables.DATA).repartition(3).write().parquet(path);

    assertThatThrownBy(() -> ExampleTables.readTable(spark, path, ExampleTables.DATA, "data/train.parquet"))
        .isInstanceOf(LetheInputException.class)
        .hasMessage("data/train.parquet (" + path + "): duplicate id 3 (2 rows); ids must be unique");
  }

  @Test
  void collectedRowsComeInIdOrderWithTheirOwnValues() {
    SparkSession spark = SharedSpark.get();
    long[] ids = {42, -3, 17, 5, 1000, 8, 0};
    ExampleSet written = examples(ids);
    String path = dir.resolve("fq.parquet").toString();
    ExampleTables.dataFrame(spark, written, 3).write().parquet(path);

    ExampleSet got = ExampleTables.collect(ExampleTables.read(spark, path, ExampleTables.DATA, "data/test.parquet"),
        true, 2, 3, path);

    assertThat(got.ids()).containsExactly(-3, 0, 5, 8, 17, 42, 1000);
    for (int i = 0; i < got.size(); i++) {
      long id = got.id(i);
      int at = java.util.stream.IntStream.range(0, ids.length).filter(k -> ids[k] == id).findFirst().orElseThrow();
      assertThat(got.features(i)).containsExactly(written.features(at));
      assertThat(got.label(i)).isEqualTo(written.label(at));
    }
  }

  @Test
  void aTableReadToTheDriverIsInIdOrderAndRejectsDuplicatesAsTheDistributedReadDoes() {
    SparkSession spark = SharedSpark.get();
    long[] ids = {42, -3, 17, 5};
    String path = dir.resolve("test.parquet").toString();
    ExampleTables.dataFrame(spark, examples(ids), 2).write().parquet(path);
    ExampleSet got = ExampleTables.readCollected(spark, path, ExampleTables.DATA, "data/test.parquet", false, 2, 3,
        path);
    assertThat(got.ids()).containsExactly(-3, 5, 17, 42);

    List<Row> rows = new ArrayList<>();
    for (long id : new long[] {5, 9, 3, 9, 3, 9, 4}) {
      rows.add(RowFactory.create(id, WrappedArray.make(new float[] {0f, 1f}), 1, 1, "none"));
    }
    String dup = dir.resolve("dup.parquet").toString();
    spark.createDataFrame(rows, ExampleTables.DATA).repartition(3).write().parquet(dup);
    String message = "data/test.parquet (" + dup + "): duplicate id 3 (2 rows); ids must be unique";
    assertThatThrownBy(() -> ExampleTables.readCollected(spark, dup, ExampleTables.DATA, "data/test.parquet", false,
        2, 3, dup)).isInstanceOf(LetheInputException.class).hasMessage(message);
    assertThatThrownBy(() -> ExampleTables.read(spark, dup, ExampleTables.DATA, "data/test.parquet"))
        .hasMessage(message);

    String empty = dir.resolve("empty-test.parquet").toString();
    ExampleTables.dataFrame(spark, examples(new long[0]), 1).write().parquet(empty);
    assertThat(ExampleTables.readCollected(spark, empty, ExampleTables.DATA, "failures/holdout.parquet", true, 2, 3,
        empty).size()).isZero();
    assertThatThrownBy(() -> ExampleTables.readCollected(spark, empty, ExampleTables.DATA, "data/test.parquet", false,
        2, 3, empty)).isInstanceOf(LetheInputException.class).hasMessage(empty + ": the table is empty");
  }
}
