package dev.lethe.spark;

import dev.lethe.LetheInputException;
import dev.lethe.Seeds;
import dev.lethe.config.LetheConfig;
import dev.lethe.config.Options;
import dev.lethe.data.BundledData;
import dev.lethe.data.Corruption;
import dev.lethe.data.ExampleSet;
import dev.lethe.data.FeatureScale;
import dev.lethe.data.IdxReader;
import dev.lethe.data.NoiseInjector;
import dev.lethe.data.NoiseOptions;
import dev.lethe.data.StratifiedSampler;
import dev.lethe.spark.io.ExampleTables;
import dev.lethe.spark.io.ModelFiles;
import dev.lethe.spark.io.UserColumns;
import dev.lethe.spark.io.Workdir;
import dev.lethe.spark.io.WorkdirLayout;
import java.io.ByteArrayInputStream;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stage {@code prepare}: reads IDX files, Parquet tables or the bundled Fashion-MNIST subset, subsamples
 * (stratified, seeded), injects recorded noise into the training set and writes data/train.parquet and
 * data/test.parquet.
 */
public final class PrepareJob implements StageJob {
  private static final Logger LOG = LoggerFactory.getLogger(PrepareJob.class);
  /** Test ids start here so they never collide with training ids read from IDX files. */
  public static final long TEST_ID_OFFSET = BundledData.TEST_FIRST_ID;
  /** Rows every split needs: training splits off a validation row, and the failures stage needs test rows. */

  public static void main(String[] args) {
    StageRunner.main(Stage.PREPARE, args);
  }

  /** The validated settings of prepare: where it reads, what it keeps and what it accepts. */
  record Settings(String source, int numClasses, int numFeatures, int trainSize, int testSize, NoiseOptions noise,
      FeatureScale scale) {}

  @Override
  public void validate(LetheConfig c, Configuration hadoop) {
    settings(c, hadoop);
  }

  @Override
  public List<Input> inputs(LetheConfig c) {
    return List.of();
  }

  @Override
  public List<String> outputs(LetheConfig c) {
    return List.of(WorkdirLayout.TRAIN, WorkdirLayout.TEST);
  }

  /** Prepare's settings, checked, and that the files or tables it will read exist (without reading them). */
  static Settings settings(LetheConfig c, Configuration hc) {
    String source = c.oneOf("data.source", "bundled", "idx", "parquet");
    int numClasses = c.positiveInt("data.num-classes");
    // the input length: the user's model's when model.source = file, else the configured image geometry's
    int numFeatures = ModelFiles.fromFile(c) ? ModelFiles.numInputs(ModelFiles.userModel(c, hc))
        : c.positiveInt("data.channels") * c.positiveInt("data.height") * c.positiveInt("data.width");
    if (source.equals("parquet")) {
      UserColumns.of(c);
    }
    Settings s = new Settings(source, numClasses, numFeatures, c.nonNegativeInt("data.train-size"),
        c.nonNegativeInt("data.test-size"), Options.noise(c), Options.featureScale(c));
    for (String key : sourceKeys(c, source)) {
      Workdir.requireExisting(c.getString(key), hc, key, source.equals("idx"));
    }
    return s;
  }

  /** The config keys naming the files or tables {@code source} reads (none for the bundled data). */
  private static List<String> sourceKeys(LetheConfig c, String source) {
    List<String> keys = switch (source) {
      case "idx" -> List.of("data.idx.train-images", "data.idx.train-labels", "data.idx.test-images",
          "data.idx.test-labels");
      case "parquet" -> List.of("data.parquet.train", "data.parquet.test");
      default -> List.of();
    };
    for (String key : keys) {
      if (c.getString(key).isEmpty()) {
        throw LetheInputException.of("config key '%s' must name %s when data.source = %s", key,
            source.equals("idx") ? "an IDX file" : "a Parquet table", source);
      }
    }
    return keys;
  }

  @Override
  public void run(JobContext ctx) {
    LetheConfig c = ctx.config();
    Workdir wd = ctx.workdir();
    Configuration hc = ctx.spark().sparkContext().hadoopConfiguration();
    Settings settings = settings(c, hc);
    int numClasses = settings.numClasses();
    int numFeatures = settings.numFeatures();
    String source = settings.source();
    ctx.describe("read " + source + " data");

    ExampleSet train;
    ExampleSet test;
    String trainSource;
    String testSource;
    var prov = ctx.provenance("prepare");
    switch (source) {
      case "bundled" -> {
        train = BundledData.train();
        test = BundledData.test();
        trainSource = "bundled training data";
        testSource = "bundled test data";
        prov.input("bundled Fashion-MNIST subset (classpath dev/lethe/data/fashion-mnist)");
      }
      case "idx" -> {
        train = readIdx(c, "train", hc, 0L);
        test = readIdx(c, "test", hc, TEST_ID_OFFSET);
        trainSource = idxSource(c, "train");
        testSource = idxSource(c, "test");
        for (String k : List.of("train-images", "train-labels", "test-images", "test-labels")) {
          prov.input("idx:" + c.getString("data.idx." + k));
        }
      }
      default -> {
        train = readParquet(ctx, "train", numFeatures, numClasses);
        test = readParquet(ctx, "test", numFeatures, numClasses);
        trainSource = parquetSource(c, "train");
        testSource = parquetSource(c, "test");
        prov.input("parquet:" + c.getString("data.parquet.train")).input("parquet:" + c.getString("data.parquet.test"));
      }
    }
    if (train.numFeatures() != numFeatures || test.numFeatures() != numFeatures) {
      throw LetheInputException.of("data: rows have %d (train) / %d (test) features, but %s", train.numFeatures(),
          test.numFeatures(), ModelFiles.fromFile(c) ? "the model (model.path " + c.getString("model.path")
          + ") takes " + numFeatures : "data.channels x height x width = " + numFeatures);
    }
    train = checked(train, trainSource, settings);
    test = checked(test, testSource, settings);
    long seed = ctx.seed();
    train = train.select(StratifiedSampler.sample(train.labels(), settings.trainSize(),
        Seeds.derive(seed, "prepare.train")));
    test = test.select(StratifiedSampler.sample(test.labels(), settings.testSize(), Seeds.derive(seed, "prepare.test")));
    requireEnough(train, "data.train-size", settings.trainSize());
    requireEnough(test, "data.test-size", settings.testSize());
    train = NoiseInjector.apply(train, settings.noise(), numClasses, Seeds.derive(seed, "prepare.noise"));
    train.validate("training data", numClasses);
    test.validate("test data", numClasses);
    Map<Corruption, Integer> counts = corruptionCounts(train);

    ctx.describe("write data tables");
    try (Workdir.Staging out = wd.stage("prepare")) {
      int parts = Math.max(1, ctx.spark().sparkContext().defaultParallelism());
      write(ctx, train, out.path(WorkdirLayout.TRAIN).toString(), parts);
      write(ctx, test, out.path(WorkdirLayout.TEST).toString(), parts);
      prov.put("train_rows", train.size()).put("test_rows", test.size()).put("corruption_counts", names(counts))
          .put("rescale", settings.scale().rescale());
      out.writeProvenance(WorkdirLayout.TRAIN, prov.toJson());
      out.writeProvenance(WorkdirLayout.TEST, prov.toJson());
      out.commit();
    }
    LOG.info("prepared {} training and {} test examples", train.size(), test.size());
    ctx.console().line("prepare: %d training examples (%s), %d test examples -> %s", train.size(),
        describe(counts), test.size(), wd.path("data"));
  }

  /**
   * One split as read: ids unique, labels in range, features finite and, after {@code data.rescale}, inside
   * {@code data.feature-range}; at least 2 rows. Errors name {@code source} (the config key and its path).
   */
  private static ExampleSet checked(ExampleSet s, String source, Settings settings) {
    if (s.size() < ExampleTables.MIN_SPLIT_ROWS) {
      throw LetheInputException.of("%s: %d examples; prepare needs at least %d per split", source, s.size(), ExampleTables.MIN_SPLIT_ROWS);
    }
    s.validate(source, settings.numClasses());
    return settings.scale().apply(s, source);
  }

  /** After subsampling: at least 2 rows, and for the training set at least 2 classes. */
  private static void requireEnough(ExampleSet s, String sizeKey, int size) {
    if (s.size() < ExampleTables.MIN_SPLIT_ROWS) {
      throw LetheInputException.of("config key '%s': %d keeps %d examples; at least %d are needed", sizeKey, size,
          s.size(), ExampleTables.MIN_SPLIT_ROWS);
    }
    if (sizeKey.equals("data.train-size") && java.util.Arrays.stream(s.labels()).distinct().count() < 2) {
      throw LetheInputException.of("training data: every example has label %d; a classifier needs at least 2"
          + " classes", s.label(0));
    }
  }

  private static String idxSource(LetheConfig c, String split) {
    return "data.idx." + split + "-images/-labels (" + c.getString("data.idx." + split + "-images") + ", "
        + c.getString("data.idx." + split + "-labels") + ")";
  }

  private static String parquetSource(LetheConfig c, String split) {
    return "data.parquet." + split + " (" + c.getString("data.parquet." + split) + ")";
  }

  private static void write(JobContext ctx, ExampleSet s, String path, int partitions) {
    ExampleTables.write(ExampleTables.dataFrame(ctx.spark(), s, partitions), path);
  }

  private static ExampleSet readIdx(LetheConfig c, String split, Configuration hc, long firstId) {
    String images = c.getString("data.idx." + split + "-images");
    String labels = c.getString("data.idx." + split + "-labels");
    byte[] img = Workdir.readFile(images, hc, "data.idx." + split + "-images");
    byte[] lab = Workdir.readFile(labels, hc, "data.idx." + split + "-labels");
    return IdxReader.readPair(new ByteArrayInputStream(img), images, new ByteArrayInputStream(lab), labels, firstId);
  }

  private static ExampleSet readParquet(JobContext ctx, String split, int numFeatures, int numClasses) {
    String path = ctx.config().getString("data.parquet." + split);
    String source = parquetSource(ctx.config(), split);
    return ExampleTables.collect(UserColumns.of(ctx.config()).read(ctx.spark(), path, source), true, numFeatures,
        numClasses, source);
  }

  static Map<Corruption, Integer> corruptionCounts(ExampleSet s) {
    Map<Corruption, Integer> m = new EnumMap<>(Corruption.class);
    for (Corruption c : s.corruptions()) {
      m.merge(c, 1, Integer::sum);
    }
    return m;
  }

  private static Map<String, Integer> names(Map<Corruption, Integer> counts) {
    Map<String, Integer> m = new java.util.LinkedHashMap<>();
    counts.forEach((k, v) -> m.put(k.code(), v));
    return m;
  }

  private static String describe(Map<Corruption, Integer> counts) {
    StringBuilder b = new StringBuilder();
    counts.forEach((k, v) -> {
      if (k != Corruption.NONE) {
        b.append(b.length() == 0 ? "" : ", ").append(v).append(' ').append(k.code());
      }
    });
    return b.length() == 0 ? "clean" : b.toString();
  }
}
