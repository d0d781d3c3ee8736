package dev.lethe.spark.io;

import dev.lethe.LetheInputException;
import dev.lethe.data.Corruption;
import dev.lethe.data.ExampleSet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.function.IntPredicate;
import java.util.function.LongSupplier;
import java.util.stream.IntStream;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import scala.collection.mutable.ArraySeq;
import scala.collection.mutable.WrappedArray;

/**
 * The Parquet contracts (docs/stages.md) and their conversion to and from {@link ExampleSet}:
 * <ul>
 *   <li>data/*.parquet: id BIGINT, features ARRAY&lt;FLOAT&gt;, label INT, original_label INT, corruption STRING</li>
 *   <li>failures/*.parquet: id BIGINT, features ARRAY&lt;FLOAT&gt;, label INT, predicted INT</li>
 *   <li>rankings/&lt;method&gt;.parquet: id, score, rank, label, logp_before, logp_after, method</li>
 * </ul>
 */
public final class ExampleTables {
  /** The fewest examples a training or test split may have. */
  public static final int MIN_SPLIT_ROWS = 2;
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

  public static final StructType RANKING = new StructType(new StructField[] {
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
    return readTable(spark, path, required, name).rows();
  }

  /** A table from {@link #readTable}: its rows (the required columns, in order) and how many there are. */
  public record Table(Dataset<Row> rows, long count) {}

  /**
   * As {@link #read}, with the row count, which the uniqueness check counts on its way (so a stage that needs the
   * count does not run a job of its own for it).
   */
  public static Table readTable(SparkSession spark, String path, StructType required, String name) {
    String where = name + " (" + path + ")";
    Dataset<Row> selected = open(spark, path, required, where);
    return new Table(selected, requireUniqueIds(selected, where));
  }

  /**
   * Reads a table small enough for the driver straight into an example set (Fq, the test set, the failure sets of a
   * repair, the training set of driver training): footers and schema are checked as by {@link #read}, the rows
   * collected in one job (no shuffle) and sorted by id on the driver, where the ids are checked unique (with
   * {@link #read}'s message), then converted and validated as by {@link #collect}.
   *
   * @param allowEmpty whether an empty table gives an empty set (otherwise it is bad input, as in {@link #collect})
   */
  public static ExampleSet readCollected(SparkSession spark, String path, StructType required, String name,
      boolean allowEmpty, int numFeatures, int numClasses, String source) {
    String where = name + " (" + path + ")";
    Dataset<Row> selected = open(spark, path, required, where);
    List<Row> rows;
    try {
      rows = collectById(selected);
    } catch (Exception e) {
      throw new LetheInputException(where + ": unreadable Parquet table: " + rootLine(e), e);
    }
    for (int i = 1; i < rows.size(); i++) {
      Row r = rows.get(i);
      if (!r.isNullAt(0) && !rows.get(i - 1).isNullAt(0) && r.getLong(0) == rows.get(i - 1).getLong(0)) {
        int end = i + 1;
        while (end < rows.size() && rows.get(end).getLong(0) == r.getLong(0)) {
          end++;
        }
        throw duplicateId(where, r.getLong(0), end - i + 1);
      }
    }
    return examples(rows, allowEmpty, required.equals(DATA), numFeatures, numClasses, source);
  }

  private static LetheInputException duplicateId(String where, long id, long rows) {
    return LetheInputException.of("%s: duplicate id %d (%d rows); ids must be unique", where, id, rows);
  }

  /** The table's required columns, in order, after checking its footers and schema (see {@link #read}). */
  private static Dataset<Row> open(SparkSession spark, String path, StructType required, String where) {
    Dataset<Row> df;
    try {
      df = spark.read().option("mergeSchema", "true").parquet(path);
    } catch (Exception e) {
      throw new LetheInputException(where + ": unreadable Parquet table: " + rootLine(e), e);
    }
    requireSchema(df.schema(), required, where);
    return df.select(required.fieldNames()[0], tail(required.fieldNames()));
  }

  /**
   * Fails naming the smallest duplicate id (and how often it occurs) if the table's ids are not unique; returns the
   * number of rows. One job over the id column (rows per id, then their sum and maximum); a second finds the
   * duplicate only when there is one.
   */
  static long requireUniqueIds(Dataset<Row> df, String where) {
    try {
      Dataset<Row> perId = df.groupBy("id").count();
      Row totals = perId.agg(functions.sum("count"), functions.max("count")).first();
      if (totals.isNullAt(0)) {
        return 0; // no rows
      }
      if (totals.getLong(1) > 1) {
        Row dup = perId.filter(functions.col("count").gt(1)).orderBy("id").first();
        throw duplicateId(where, dup.getLong(0), dup.getLong(1));
      }
      return totals.getLong(0);
    } catch (LetheInputException e) {
      throw e;
    } catch (Exception e) {
      throw new LetheInputException(where + ": unreadable Parquet table: " + rootLine(e), e);
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
   * The rows of {@code df} (a table from {@link #read}: the columns of its required schema, in order) in
   * {@code partitions} partitions for a pass over the rows (scoring, the Fisher), in Spark's internal row format, to be
   * converted by {@link #internalBlocks}. Internal rows skip the conversion to external {@link Row}s, a projection
   * generated and compiled on the executors whose first use in a JVM also initialises Scala reflection there, which
   * delays the first row of a fresh JVM's pass. A row is valid only until
   * the iterator's next row (the scan reuses its buffers); {@link #internalBlocks} copies each row out as it reads it.
   * <p>
   * The scan is shuffled only when it has fewer partitions: a table written by this pipeline already has one file
   * per partition (prepare writes as many as the cluster has cores), and repartitioning it would read, serialise and
   * shuffle every row once more. A scan with more partitions is coalesced (no shuffle). Per-row results do not
   * depend on the partitioning; sums over rows (the Fisher's) only by the order of their additions.
   */
  public static JavaRDD<InternalRow> inPartitions(Dataset<Row> df, int partitions) {
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions must be >= 1, got " + partitions);
    }
    RDD<InternalRow> rows = df.queryExecution().toRdd();
    int scanned = rows.getNumPartitions();
    if (scanned < partitions) {
      return df.repartition(partitions).queryExecution().toRdd().toJavaRDD();
    }
    return scanned > partitions ? rows.toJavaRDD().coalesce(partitions) : rows.toJavaRDD();
  }

  /**
   * Writes a table of examples the pipeline reads again (data/train.parquet and data/test.parquet, the failures
   * tables) to {@code path}, each partition sorted by id, failing when the path exists. Without Parquet's dictionary
   * encoding: the features of image data have few distinct values, so the writer would dictionary-encode them, and
   * Spark's vectorized reader decodes such a list column about 1.4x slower than plain floats (3000 Fashion-MNIST rows,
   * warm: 78-88 ms against 56-63, including a Spark job's fixed cost), for 1.7x the bytes (snappy: 3.2 MB against 1.9).
   * The fisher stage and every identify and repair run read these tables again.
   */
  public static void write(Dataset<Row> df, String path) {
    df.sortWithinPartitions("id").write().mode(SaveMode.ErrorIfExists).option(DICTIONARY, "false").parquet(path);
  }

  /** Parquet's writer option for dictionary encoding (all columns). */
  static final String DICTIONARY = "parquet.enable.dictionary";

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
  static float[] features(Row r, int column, String source) {
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
        throw nullFeature(source, r.getLong(0), i);
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
    StructType schema = dataSchema ? DATA : FAILURES;
    while (rows.hasNext()) {
      Row r = rows.next();
      requireNoNulls(schema, r::isNullAt, () -> r.getLong(0), source);
      ids.add(r.getLong(0));
      feats.add(features(r, 1, source));
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
        throw wrongLength(source, idArr[i], feats.get(i).length, numFeatures);
      }
    }
    ExampleSet s = new ExampleSet(idArr, feats.toArray(new float[0][]), lab, orig, corr.toArray(new Corruption[0]),
        numFeatures);
    s.validate(source, numClasses);
    return s;
  }

  /**
   * Streams internal rows of the data schema (id, features, label, original_label, corruption) or the failures
   * schema (id, features, label, predicted), as {@link #inPartitions} gives them, as example sets of at most
   * {@code blockSize} rows (the last may be shorter), so a partition is never held in memory whole. Each row is
   * copied out as it is read; each block is validated as in {@link #toExamples}, and a null value is bad input naming
   * the row and the column.
   */
  public static Iterator<ExampleSet> internalBlocks(Iterator<InternalRow> rows, int blockSize, boolean dataSchema,
      int numFeatures, int numClasses, String source) {
    if (blockSize < 1) {
      throw new IllegalArgumentException("blockSize must be >= 1, got " + blockSize);
    }
    StructType schema = dataSchema ? DATA : FAILURES;
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return rows.hasNext();
      }

      @Override
      public ExampleSet next() {
        if (!rows.hasNext()) {
          throw new java.util.NoSuchElementException();
        }
        long[] ids = new long[blockSize];
        float[][] feats = new float[blockSize][];
        int[] labels = new int[blockSize];
        int[] originals = new int[blockSize];
        Corruption[] corr = new Corruption[blockSize];
        int n = 0;
        while (n < blockSize && rows.hasNext()) {
          InternalRow r = rows.next();
          requireNoNulls(schema, r::isNullAt, () -> r.getLong(0), source);
          ids[n] = r.getLong(0);
          ArrayData a = r.getArray(1);
          if (a.numElements() != numFeatures) {
            throw wrongLength(source, ids[n], a.numElements(), numFeatures);
          }
          for (int i = 0; i < numFeatures; i++) {
            if (a.isNullAt(i)) {
              throw nullFeature(source, ids[n], i);
            }
          }
          feats[n] = a.toFloatArray();
          labels[n] = r.getInt(2);
          originals[n] = dataSchema ? r.getInt(3) : labels[n];
          corr[n] = dataSchema ? Corruption.parse(r.getUTF8String(4).toString(), source) : Corruption.NONE;
          n++;
        }
        ExampleSet s = n == blockSize ? new ExampleSet(ids, feats, labels, originals, corr, numFeatures)
            : new ExampleSet(Arrays.copyOf(ids, n), Arrays.copyOf(feats, n), Arrays.copyOf(labels, n),
                Arrays.copyOf(originals, n), Arrays.copyOf(corr, n), numFeatures);
        s.validate(source, numClasses);
        return s;
      }
    };
  }

  /**
   * Fails naming the row (its id, unless that is the null) and the first column of {@code schema} that is null in it;
   * {@code isNull} and {@code id} read the row ({@link Row} and {@link InternalRow} share no interface).
   */
  private static void requireNoNulls(StructType schema, IntPredicate isNull, LongSupplier id, String source) {
    for (int c = 0; c < schema.size(); c++) {
      if (isNull.test(c)) {
        throw LetheInputException.of("%s: %s has a null %s (the column must not contain nulls)", source,
            c == 0 || isNull.test(0) ? "a row" : "id " + id.getAsLong(), schema.fields()[c].name());
      }
    }
  }

  private static LetheInputException nullFeature(String source, long id, int position) {
    return LetheInputException.of("%s: id %d: features contains a null at position %d", source, id, position);
  }

  private static LetheInputException wrongLength(String source, long id, int length, int numFeatures) {
    return LetheInputException.of("%s: id %d has %d features, but the model takes %d", source, id, length,
        numFeatures);
  }

  /** As {@link #collect}, but an empty table gives an empty example set (Fh or T\F may be empty). */
  public static ExampleSet collectPossiblyEmpty(Dataset<Row> df, boolean dataSchema, int numFeatures,
      int numClasses, String source) {
    return examples(collectById(df), true, dataSchema, numFeatures, numClasses, source);
  }

  /**
   * The rows of {@code df} on the driver in id order (a null id first, as Spark sorts it), sorted there: a global
   * {@code orderBy} would add a sampling job and a shuffle to a table small enough to collect.
   */
  static List<Row> collectById(Dataset<Row> df) {
    List<Row> rows = new ArrayList<>(df.collectAsList());
    int id = df.schema().fieldIndex("id");
    rows.sort((a, b) -> a.isNullAt(id) || b.isNullAt(id) ? Boolean.compare(!a.isNullAt(id), !b.isNullAt(id))
        : Long.compare(a.getLong(id), b.getLong(id)));
    return rows;
  }

  /** Collects a whole table to the driver (for small tables: Fq, the test set, training on the driver). */
  public static ExampleSet collect(Dataset<Row> df, boolean dataSchema, int numFeatures, int numClasses,
      String source) {
    return examples(collectById(df), false, dataSchema, numFeatures, numClasses, source);
  }

  /** Collected rows as an example set; an empty table is bad input unless {@code allowEmpty}. */
  private static ExampleSet examples(List<Row> rows, boolean allowEmpty, boolean dataSchema, int numFeatures,
      int numClasses, String source) {
    if (rows.isEmpty() && !allowEmpty) {
      throw LetheInputException.of("%s: the table is empty", source);
    }
    return toExamples(rows.iterator(), dataSchema, numFeatures, numClasses, source);
  }
}
