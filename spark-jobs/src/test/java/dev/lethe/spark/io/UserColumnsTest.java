package dev.lethe.spark.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lethe.LetheInputException;
import dev.lethe.data.ExampleSet;
import dev.lethe.spark.SharedSpark;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** The user's feature columns: an array of doubles, numeric columns, and Spark ML vectors, dense and sparse. */
class UserColumnsTest {
  private static final StructType VECTOR = new StructType().add("type", DataTypes.ByteType, false)
      .add("size", DataTypes.IntegerType, true).add("indices", DataTypes.createArrayType(DataTypes.IntegerType), true)
      .add("values", DataTypes.createArrayType(DataTypes.DoubleType), true);

  private static ExampleSet read(Dataset<Row> df, UserColumns cols, int numFeatures) {
    return ExampleTables.collect(cols.toDataSchema(df, "table"), true, numFeatures, 3, "table");
  }

  @Test
  void vectorsArraysAndNumericColumnsGiveTheSameFeatures() {
    // Spark ML's stored form of a vector: type 1 dense (values), type 0 sparse (size, indices, values)
    StructType schema = new StructType().add("key", DataTypes.LongType, false).add("cls", DataTypes.IntegerType, false)
        .add("vec", VECTOR, false).add("arr", DataTypes.createArrayType(DataTypes.DoubleType), false)
        .add("a", DataTypes.DoubleType, false).add("b", DataTypes.IntegerType, false)
        .add("c", DataTypes.FloatType, false);
    List<Row> rows = List.of(
        RowFactory.create(7L, 2, RowFactory.create((byte) 1, null, null, new double[] {0.5, -1.0, 3.0}),
            new double[] {0.5, -1.0, 3.0}, 0.5, -1, 3.0f),
        RowFactory.create(3L, 0, RowFactory.create((byte) 0, 3, new int[] {2}, new double[] {4.0}),
            new double[] {0.0, 0.0, 4.0}, 0.0, 0, 4.0f));
    Dataset<Row> df = SharedSpark.get().createDataFrame(rows, schema);
    ExampleSet vec = read(df, new UserColumns("key", "cls", List.of("vec")), 3);
    ExampleSet arr = read(df, new UserColumns("key", "cls", List.of("arr")), 3);
    ExampleSet cols = read(df, new UserColumns("key", "cls", List.of("a", "b", "c")), 3);
    for (ExampleSet s : List.of(vec, arr, cols)) {
      assertThat(s.id(0)).isEqualTo(3L);
      assertThat(s.label(0)).isZero();
      assertThat(s.features(0)).containsExactly(0f, 0f, 4f);
      assertThat(s.features(1)).containsExactly(0.5f, -1f, 3f);
      assertThat(s.label(1)).isEqualTo(2);
    }
    assertThatThrownBy(() -> new UserColumns("key", "cls", List.of("nope")).toDataSchema(df, "table"))
        .isInstanceOf(LetheInputException.class).hasMessageContaining("no column 'nope'");
    assertThatThrownBy(() -> new UserColumns("arr", "cls", List.of("a")).toDataSchema(df, "table"))
        .isInstanceOf(LetheInputException.class).hasMessageContaining("column 'arr'")
        .hasMessageContaining("integer");
  }
}
