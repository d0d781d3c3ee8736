package dev.lethe.spark.io;

import dev.lethe.LetheInputException;
import dev.lethe.config.LetheConfig;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.types.UserDefinedType;

/**
 * A user's Parquet table in the {@code data/*.parquet} schema ({@link ExampleTables#DATA}), by the columns the
 * {@code data.columns.*} keys name: an id column (integer), a label column (integer class index) and the features,
 * either one column of type {@code array<float|double>} or Spark ML {@code Vector} (dense or sparse), or a list of
 * numeric columns (one feature each, in the order given). {@code original_label} and {@code corruption} are kept
 * when the table has them, else the label and {@code none}. A missing column or one of the wrong type is bad input
 * naming it and the table; row lengths are checked when the rows are read ({@link ExampleTables#collect}).
 *
 * @param id the id column
 * @param label the label column
 * @param features one array or vector column, or several numeric columns
 */
public record UserColumns(String id, String label, List<String> features) {
  public UserColumns {
    if (features.isEmpty()) {
      throw LetheInputException.of("config key 'data.columns.features': name at least one column");
    }
    features = List.copyOf(features);
  }

  /** The columns the configuration names. */
  public static UserColumns of(LetheConfig c) {
    return new UserColumns(c.getString("data.columns.id").trim(), c.getString("data.columns.label").trim(),
        c.getStringList("data.columns.features").stream().map(String::trim).toList());
  }

  /** Reads the table at {@code path} ({@code where} names it in messages) in the data schema. */
  public Dataset<Row> read(SparkSession spark, String path, String where) {
    Dataset<Row> df;
    try {
      df = spark.read().parquet(path);
    } catch (Exception e) {
      throw new LetheInputException(where + ": unreadable Parquet table: " + ExampleTables.rootLine(e), e);
    }
    return toDataSchema(df, where);
  }

  /** {@code df}'s columns as the data schema. */
  public Dataset<Row> toDataSchema(Dataset<Row> df, String where) {
    StructType schema = df.schema();
    Column id = integral(schema, id(), where).cast(DataTypes.LongType).as("id");
    Column label = integral(schema, label(), where).cast(DataTypes.IntegerType).as("label");
    Column original = has(schema, "original_label") && !label().equals("original_label")
        ? functions.col("original_label").cast(DataTypes.IntegerType) : label;
    Column corruption = has(schema, "corruption") ? functions.col("corruption").cast(DataTypes.StringType)
        : functions.lit("none");
    return df.select(id, features(schema, where).as("features"), label, original.as("original_label"),
        corruption.as("corruption"));
  }

  private Column features(StructType schema, String where) {
    if (features.size() > 1) {
      List<Column> cols = new ArrayList<>();
      for (String f : features) {
        DataType t = field(schema, f, "data.columns.features", where).dataType();
        if (!(t instanceof NumericType)) {
          throw LetheInputException.of("%s: feature column '%s' is %s; a list of feature columns must be numeric",
              where, f, t.simpleString());
        }
        cols.add(functions.col(f).cast(DataTypes.FloatType));
      }
      return functions.array(cols.toArray(new Column[0]));
    }
    String f = features.get(0);
    DataType t = field(schema, f, "data.columns.features", where).dataType();
    if (t instanceof ArrayType a && (a.elementType() instanceof NumericType)) {
      return functions.col(f).cast(DataTypes.createArrayType(DataTypes.FloatType, a.containsNull()));
    }
    if (t instanceof UserDefinedType<?> u && u.sqlType() instanceof StructType s && isVector(s)) {
      return vectorValues(functions.col(f), s);
    }
    if (t instanceof StructType s && isVector(s)) {
      // a Spark ML vector column read where Spark ML's classes are not loaded: its stored struct
      return vectorValues(functions.col(f), s);
    }
    if (t instanceof NumericType) {
      return functions.array(functions.col(f).cast(DataTypes.FloatType));
    }
    throw LetheInputException.of("%s: feature column '%s' is %s; expected array<float> or array<double>, a Spark ML"
        + " vector, or a list of numeric columns", where, f, t.simpleString());
  }

  /** Whether {@code s} is the struct a Spark ML vector is stored as: type, size, indices, values. */
  private static boolean isVector(StructType s) {
    List<String> names = List.of(s.fieldNames());
    return names.containsAll(List.of("type", "size", "indices", "values"));
  }

  /** A vector's entries as array<float>: a dense vector's values, a sparse one's scattered over its size. */
  private static Column vectorValues(Column v, StructType s) {
    // a UDT column is reached through a cast to the struct it is stored as
    Column stored = v.cast(s);
    return functions.when(stored.getField("type").equalTo(1), stored.getField("values"))
        .otherwise(sparseOf(stored)).cast(DataTypes.createArrayType(DataTypes.FloatType));
  }

  private static Column sparseOf(Column stored) {
    return functions.transform(functions.sequence(functions.lit(0), stored.getField("size").minus(1)),
        i -> functions.coalesce(functions.element_at(functions.map_from_arrays(stored.getField("indices"),
            stored.getField("values")), i), functions.lit(0.0)));
  }

  private static Column integral(StructType schema, String name, String where) {
    DataType t = field(schema, name, "a data.columns key", where).dataType();
    if (!(t.equals(DataTypes.LongType) || t.equals(DataTypes.IntegerType) || t.equals(DataTypes.ShortType)
        || t.equals(DataTypes.ByteType))) {
      throw LetheInputException.of("%s: column '%s' is %s; expected an integer column", where, name,
          t.simpleString());
    }
    return functions.col(name);
  }

  private static boolean has(StructType schema, String name) {
    return List.of(schema.fieldNames()).contains(name);
  }

  private static StructField field(StructType schema, String name, String key, String where) {
    if (!has(schema, name)) {
      throw LetheInputException.of("%s: no column '%s' (%s); the table has %s", where, name, key,
          String.join(", ", schema.fieldNames()));
    }
    return schema.apply(name);
  }
}
