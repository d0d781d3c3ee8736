package dev.lethe.tests;

import dev.lethe.data.ExampleSet;
import dev.lethe.model.TabularBlobs;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * A user's tabular data as Parquet tables with one numeric column per feature ({@code row_id}, {@code x1..x4},
 * {@code y}), drawn from the blobs the Keras fixtures of common's test resources were fitted on, and those model
 * files copied out of the classpath.
 */
final class TabularTables {
  static final String FEATURES = "[x1, x2, x3, x4]";

  private TabularTables() {}

  /**
   * Writes {@code n} rows (ids from {@code idBase}) to {@code path}; every {@code flipEvery}-th row's label moved to
   * the next class (0 = none).
   */
  static String write(Path path, int n, long seed, long idBase, int flipEvery) {
    ExampleSet s = TabularBlobs.sample(n, seed, idBase);
    StructType schema = new StructType().add("row_id", DataTypes.LongType, false)
        .add("x1", DataTypes.DoubleType, false).add("x2", DataTypes.DoubleType, false)
        .add("x3", DataTypes.DoubleType, false).add("x4", DataTypes.DoubleType, false)
        .add("y", DataTypes.IntegerType, false);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      float[] x = s.features(i);
      int y = flipEvery > 0 && i % flipEvery == 0 ? (s.label(i) + 1) % 3 : s.label(i);
      rows.add(RowFactory.create(s.id(i), (double) x[0], (double) x[1], (double) x[2], (double) x[3], y));
    }
    SharedSpark.session().createDataFrame(rows, schema).coalesce(1).write().parquet(path.toString());
    return path.toString();
  }

  /** The Keras fixture {@code name} copied to {@code dir}. */
  static String model(Path dir, String name) {
    try (InputStream in = TabularTables.class.getResourceAsStream("/models/" + name)) {
      Path p = dir.resolve(name);
      Files.copy(in, p);
      return p.toString();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** The settings that read the tables and the model. */
  static List<String> settings(String train, String test, String model) {
    return List.of("--set", "data.source=parquet", "--set", "data.parquet.train=\"" + train + "\"",
        "--set", "data.parquet.test=\"" + test + "\"", "--set", "data.columns.id=row_id",
        "--set", "data.columns.label=y", "--set", "data.columns.features=" + FEATURES,
        "--set", "data.num-classes=3", "--set", "data.feature-range=[-100, 100]", "--set", "data.train-size=0",
        "--set", "data.test-size=0", "--set", "model.source=file", "--set", "model.path=\"" + model + "\"");
  }
}
