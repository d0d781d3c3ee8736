package dev.lethe.spark.io;

import dev.lethe.LetheInputException;
import dev.lethe.data.Corruption;
import dev.lethe.data.ExampleSet;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import scala.collection.mutable.ArraySeq;
import scala.collection.mutable.WrappedArray;

/**
 * The Parquet contracts of shared/DESIGN.md and their conversion to and from {@link ExampleSet}:
 * <ul>
 *   <li>data/*.parquet: id BIGINT, features ARRAY&lt;FLOAT&gt;, label INT, original_label INT, corruption STRING</li>
 *   <li>failures/*.parquet: id BIGINT, features ARRAY&lt;FLOAT&gt;, label INT, predicted INT</li>
 *   <li>culprits/&lt;method&gt;.parquet: id, score, rank, label, logp_before, logp_after, method</li>
 * </ul>
 */
public final class ExampleTables {
  public static final StructType DATA = new StructType(new StructField[] {
      DataTypes.createStructField("id", DataTypes.LongType, false),
      DataTypes.createStructField("features", DataTypes.createArrayType(DataTypes.FloatType, false), false),
      DataTypes.createStructField("label", DataTypes.IntegerType, false),
      DataTypes.createStructField("original_label", DataTypes.IntegerType, false),
      DataTypes.createStructField("corruption", DataTypes.StringType, false)});

  public static final StructType FAILURES = new StructType(new StructField[] {
      DataTypes.createStructField("id", DataTypes.LongType, false),
      DataTypes.createStructField("features", DataTypes.createArrayType(DataTypes.FloatType, false), false),
      DataTypes.createStructField("label", DataTypes.IntegerType, false),
      DataTypes.createStructField("predicted", DataTypes.IntegerType, false)});

  public static final StructType CULPRITS = new StructType(new StructField[] {
      DataTypes.createStructField("id", DataTypes.LongType, false),
      DataTypes.createStructField("score", DataTypes.DoubleType, false),
      DataTypes.createStructField("rank", DataTypes.LongType, false),
      DataTypes.createStructField("label", DataTypes.IntegerType, false),
      DataTypes.createStructField("logp_before", DataTypes.DoubleType, true),
      DataTypes.createStructField("logp_after", DataTypes.DoubleType, true),
      DataTypes.createStructField("method", DataTypes.StringType, false)});

  private ExampleTables() {}

  /**
   * Reads a Parquet table and checks it before any stage works on it: every file's footer must be readable and
   * agree on the schema (read with {@code mergeSchema}, so a corrupt or truncated part file is found here and not
   * halfway through a distributed pass), the table must have every column of {@code required} with a compatible
   * type (extra columns are allowed and ignored), and its ids must be unique (one pass over the id column).
   * Feature length, labels and finiteness are checked where rows are converted ({@link #toExamples}).
   */
  public static Dataset<Row> read(SparkSession spark, String path, StructType required, String name) {
    String where = name + " (" + path + ")";
    Dataset<Row> df;
    try {
      df = spark.read().option("mergeSchema", "true").parquet(path);
    } catch (Exception e) {
      throw new LetheInputException(where + ": unreadable Parquet table: " + rootLine(e), e);
    }
    requireSchema(df.schema(), required, where);
    Dataset<Row> selected = df.select(required.fieldNames()[0], tail(required.fieldNames()));
    requireUniqueIds(selected, where);
    return selected;
  }

  /** Fails naming one duplicate id (and how often it occurs) if the table's ids are not unique. */
  static void requireUniqueIds(Dataset<Row> df, String where) {
    List<Row> dup;
    try {
      dup = df.groupBy("id").count().filter(functions.col("count").gt(1)).orderBy("id").limit(1).collectAsList();
    } catch (Exception e) {
      throw new LetheInputException(where + ": unreadable Parquet table: " + rootLine(e), e);
    }
    if (!dup.isEmpty()) {
      throw LetheInputException.of("%s: duplicate id %d (%d rows); ids must be unique", where, dup.get(0).getLong(0),
          dup.get(0).getLong(1));
    }
  }

  /**
   * The first line of the innermost cause's message: Spark wraps a file's error in job and task failures several
   * levels deep, and only the innermost names the file and what is wrong with it.
   */
  static String rootLine(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root.getMessage() == null ? firstLine(e) : firstLine(root);
  }

  private static String[] tail(String[] a) {
    String[] t = new String[a.length - 1];
    System.arraycopy(a, 1, t, 0, t.length);
    return t;
  }

  static String firstLine(Throwable e) {
    String m = String.valueOf(e.getMessage());
    int nl = m.indexOf('\n');
    return nl > 0 ? m.substring(0, nl) : m;
  }

  /** Checks column names and types; names the table, the column and the types in the error. */
  public static void requireSchema(StructType actual, StructType required, String name) {
    for (StructField want : required.fields()) {
      scala.Option<Object> idx = actual.getFieldIndex(want.name());
      if (idx.isEmpty()) {
        throw LetheInputException.of("%s: missing column '%s' (expected %s; found %s)", name, want.name(),
            want.dataType().simpleString(), actual.simpleString());
      }
      DataType got = actual.fields()[(Integer) idx.get()].dataType();
      if (!compatible(got, want.dataType())) {
        throw LetheInputException.of("%s: column '%s' has type %s, expected %s", name, want.name(),
            got.simpleString(), want.dataType().simpleString());
      }
    }
  }

  private static boolean compatible(DataType got, DataType want) {
    if (got instanceof ArrayType g && want instanceof ArrayType w) {
      return g.elementType().equals(w.elementType());
    }
    return got.equals(want);
  }

  /**
   * The rows of {@code df} in {@code partitions} partitions for a pass over the rows (scoring, the Fisher), shuffled
   * only when the scan has fewer: a table written by this pipeline already has one file per partition (prepare
   * writes as many as the cluster has cores), and repartitioning it would read, serialise and shuffle every row once
   * more. A scan with more partitions is coalesced (no shuffle). Per-row results do not depend on the partitioning; sums over rows (the
   * Fisher's) only by the order of their additions.
   */
  public static JavaRDD<Row> inPartitions(Dataset<Row> df, int partitions) {
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions must be >= 1, got " + partitions);
    }
    JavaRDD<Row> rows = df.javaRDD();
    int scanned = rows.getNumPartitions();
    if (scanned < partitions) {
      return df.repartition(partitions).javaRDD();
    }
    return scanned > partitions ? rows.coalesce(partitions) : rows;
  }

  /**
   * The data-schema table of an example set. The set travels to the tasks once, as a broadcast, and each task builds
   * its rows lazily (features wrapped, not copied or boxed), so the driver never holds a second, row-shaped copy of
   * the data. Rows are dealt round-robin to {@code partitions} partitions, in the set's order.
   */
  public static Dataset<Row> dataFrame(SparkSession spark, ExampleSet s, int partitions) {
    return dataFrame(spark, s, null, DATA, partitions);
  }

  /** As {@link #dataFrame(SparkSession, ExampleSet, int)} for the failures schema, with each row's prediction. */
  public static Dataset<Row> failuresFrame(SparkSession spark, ExampleSet s, int[] predicted, int partitions) {
    if (predicted.length != s.size()) {
      throw new IllegalArgumentException(predicted.length + " predictions for " + s.size() + " rows");
    }
    return dataFrame(spark, s, predicted, FAILURES, partitions);
  }

  private static Dataset<Row> dataFrame(SparkSession spark, ExampleSet s, int[] predicted, StructType schema,
      int partitions) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Broadcast<ExampleSet> set = jsc.broadcast(s);
    Broadcast<int[]> pred = predicted == null ? null : jsc.broadcast(predicted);
    int parts = Math.max(1, Math.min(partitions, s.size()));
    List<Integer> starts = new ArrayList<>(parts);
    for (int k = 0; k < parts; k++) {
      starts.add(k);
    }
    JavaRDD<Row> rows = jsc.parallelize(starts, parts).flatMap(first -> {
      ExampleSet e = set.value();
      int[] p = pred == null ? null : pred.value();
      return IntStream.iterate(first, i -> i < e.size(), i -> i + parts).mapToObj(i -> p == null
          ? RowFactory.create(e.id(i), WrappedArray.make(e.features(i)), e.label(i), e.originalLabel(i),
              e.corruption(i).code())
          : RowFactory.create(e.id(i), WrappedArray.make(e.features(i)), e.label(i), p[i])).iterator();
    });
    return spark.createDataFrame(rows, schema);
  }

  /** The features of a row (column 1 in both the data and failures schemas) as a float[]. */
  public static float[] features(Row r, int column) {
    Object o = r.get(column);
    if (o instanceof ArraySeq<?> seq) {
      Object arr = seq.array();
      if (arr instanceof float[] f) {
        return f.clone();
      }
    }
    List<Object> list = r.getList(column);
    float[] f = new float[list.size()];
    for (int i = 0; i < f.length; i++) {
      Object v = list.get(i);
      if (v == null) {
        throw LetheInputException.of("row id %d: features contains a null at position %d", r.getLong(0), i);
      }
      f[i] = (Float) v;
    }
    return f;
  }

  /**
   * Converts rows of the data schema (id, features, label, original_label, corruption) or the failures schema
   * (id, features, label, predicted) to an example set, validating feature length, labels and finiteness.
   */
  public static ExampleSet toExamples(Iterator<Row> rows, boolean dataSchema, int numFeatures, int numClasses,
      String source) {
    List<Long> ids = new ArrayList<>();
    List<float[]> feats = new ArrayList<>();
    List<Integer> labels = new ArrayList<>();
    List<Integer> originals = new ArrayList<>();
    List<Corruption> corr = new ArrayList<>();
    while (rows.hasNext()) {
      Row r = rows.next();
      ids.add(r.getLong(0));
      feats.add(features(r, 1));
      labels.add(r.getInt(2));
      originals.add(dataSchema ? r.getInt(3) : r.getInt(2));
      corr.add(dataSchema ? Corruption.parse(r.getString(4), source) : Corruption.NONE);
    }
    int n = ids.size();
    long[] idArr = new long[n];
    int[] lab = new int[n];
    int[] orig = new int[n];
    for (int i = 0; i < n; i++) {
      idArr[i] = ids.get(i);
      lab[i] = labels.get(i);
      orig[i] = originals.get(i);
    }
    for (int i = 0; i < n; i++) {
      if (feats.get(i).length != numFeatures) {
        throw LetheInputException.of("%s: id %d has %d features, but the model takes %d", source, idArr[i],
            feats.get(i).length, numFeatures);
      }
    }
    ExampleSet s = new ExampleSet(idArr, feats.toArray(new float[0][]), lab, orig, corr.toArray(new Corruption[0]),
        numFeatures);
    s.validate(source, numClasses);
    return s;
  }

  /**
   * Streams rows as example sets of at most {@code blockSize} rows (the last may be shorter), so a partition is
   * never held in memory whole; each block is validated as in {@link #toExamples}.
   */
  public static Iterator<ExampleSet> blocks(Iterator<Row> rows, int blockSize, boolean dataSchema, int numFeatures,
      int numClasses, String source) {
    if (blockSize < 1) {
      throw new IllegalArgumentException("blockSize must be >= 1, got " + blockSize);
    }
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return rows.hasNext();
      }

      @Override
      public ExampleSet next() {
        List<Row> block = new ArrayList<>(blockSize);
        while (block.size() < blockSize && rows.hasNext()) {
          block.add(rows.next());
        }
        if (block.isEmpty()) {
          throw new java.util.NoSuchElementException();
        }
        return toExamples(block.iterator(), dataSchema, numFeatures, numClasses, source);
      }
    };
  }

  /** As {@link #collect}, but an empty table gives an empty example set (Fh or T\F may be empty). */
  public static ExampleSet collectPossiblyEmpty(Dataset<Row> df, boolean dataSchema, int numFeatures,
      int numClasses, String source) {
    return toExamples(df.orderBy("id").collectAsList().iterator(), dataSchema, numFeatures, numClasses, source);
  }

  /** Collects a whole table to the driver (for small tables: Fq, the test set, training on the driver). */
  public static ExampleSet collect(Dataset<Row> df, boolean dataSchema, int numFeatures, int numClasses,
      String source) {
    List<Row> rows = df.orderBy("id").collectAsList();
    if (rows.isEmpty()) {
      throw LetheInputException.of("%s: the table is empty", source);
    }
    return toExamples(rows.iterator(), dataSchema, numFeatures, numClasses, source);
  }
}
