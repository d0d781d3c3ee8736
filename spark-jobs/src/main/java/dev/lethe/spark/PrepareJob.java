package dev.lethe.spark;

import dev.lethe.LetheInputException;
import dev.lethe.Seeds;
import dev.lethe.config.LetheConfig;
import dev.lethe.config.Options;
import dev.lethe.data.BundledData;
import dev.lethe.data.Corruption;
import dev.lethe.data.ExampleSet;
import dev.lethe.data.IdxReader;
import dev.lethe.data.NoiseInjector;
import dev.lethe.data.StratifiedSampler;
import dev.lethe.spark.io.ExampleTables;
import dev.lethe.spark.io.Workdir;
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
public final class PrepareJob {
  private static final Logger LOG = LoggerFactory.getLogger(PrepareJob.class);
  public static final String TRAIN = "data/train.parquet";
  public static final String TEST = "data/test.parquet";
  /** Test ids start here so they never collide with training ids read from IDX files. */
  public static final long TEST_ID_OFFSET = BundledData.TEST_FIRST_ID;

  private PrepareJob() {}

  public static void main(String[] args) {
    StageRunner.main("prepare", args);
  }

  static void run(JobContext ctx) {
    LetheConfig c = ctx.config();
    Workdir wd = ctx.workdir();
    wd.requireWritable(List.of(TRAIN, TEST));
    String source = c.oneOf("data.source", "bundled", "idx", "parquet");
    int numClasses = c.positiveInt("data.num-classes");
    int numFeatures = c.positiveInt("data.channels") * c.positiveInt("data.height") * c.positiveInt("data.width");
    int trainSize = c.nonNegativeInt("data.train-size");
    int testSize = c.nonNegativeInt("data.test-size");
    var noise = Options.noise(c);
    ctx.describe("read " + source + " data");

    ExampleSet train;
    ExampleSet test;
    var prov = ctx.provenance("prepare");
    switch (source) {
      case "bundled" -> {
        train = BundledData.train();
        test = BundledData.test();
        prov.input("bundled Fashion-MNIST subset (classpath dev/lethe/data/fashion-mnist)");
      }
      case "idx" -> {
        Configuration hc = ctx.spark().sparkContext().hadoopConfiguration();
        train = readIdx(c, "train", hc, 0L);
        test = readIdx(c, "test", hc, TEST_ID_OFFSET);
        for (String k : List.of("train-images", "train-labels", "test-images", "test-labels")) {
          prov.input("idx:" + c.getString("data.idx." + k));
        }
      }
      default -> {
        train = readParquet(ctx, "train", numFeatures, numClasses);
        test = readParquet(ctx, "test", numFeatures, numClasses);
        prov.input("parquet:" + c.getString("data.parquet.train")).input("parquet:" + c.getString("data.parquet.test"));
      }
    }
    if (train.numFeatures() != numFeatures || test.numFeatures() != numFeatures) {
      throw LetheInputException.of("data: images have %d (train) / %d (test) pixels, but data.channels x height x"
          + " width = %d", train.numFeatures(), test.numFeatures(), numFeatures);
    }
    long seed = ctx.seed();
    train = train.select(StratifiedSampler.sample(train.labels(), trainSize, Seeds.derive(seed, "prepare.train")));
    test = test.select(StratifiedSampler.sample(test.labels(), testSize, Seeds.derive(seed, "prepare.test")));
    train = NoiseInjector.apply(train, noise, numClasses, Seeds.derive(seed, "prepare.noise"));
    train.validate("training data", numClasses);
    test.validate("test data", numClasses);
    Map<Corruption, Integer> counts = corruptionCounts(train);

    ctx.describe("write data tables");
    try (Workdir.Staging out = wd.stage("prepare")) {
      int parts = Math.max(1, ctx.spark().sparkContext().defaultParallelism());
      write(ctx, train, out.path(TRAIN).toString(), parts);
      write(ctx, test, out.path(TEST).toString(), parts);
      prov.put("train_rows", train.size()).put("test_rows", test.size()).put("corruption_counts", names(counts));
      out.writeProvenance(TRAIN, prov.toJson());
      out.writeProvenance(TEST, prov.toJson());
      out.commit();
    }
    LOG.info("prepared {} training and {} test examples", train.size(), test.size());
    ctx.console().line("prepare: %d training examples (%s), %d test examples -> %s", train.size(),
        describe(counts), test.size(), wd.path("data"));
  }

  private static void write(JobContext ctx, ExampleSet s, String path, int partitions) {
    ExampleTables.write(ExampleTables.dataFrame(ctx.spark(), s, partitions), path);
  }

  private static ExampleSet readIdx(LetheConfig c, String split, Configuration hc, long firstId) {
    String images = c.getString("data.idx." + split + "-images");
    String labels = c.getString("data.idx." + split + "-labels");
    if (images.isEmpty() || labels.isEmpty()) {
      throw LetheInputException.of("config keys 'data.idx.%s-images' and 'data.idx.%s-labels' must name IDX files"
          + " when data.source = idx", split, split);
    }
    byte[] img = Workdir.readFile(images, hc, "data.idx." + split + "-images");
    byte[] lab = Workdir.readFile(labels, hc, "data.idx." + split + "-labels");
    return IdxReader.readPair(new ByteArrayInputStream(img), images, new ByteArrayInputStream(lab), labels, firstId);
  }

  private static ExampleSet readParquet(JobContext ctx, String split, int numFeatures, int numClasses) {
    String path = ctx.config().getString("data.parquet." + split);
    if (path.isEmpty()) {
      throw LetheInputException.of("config key 'data.parquet.%s' must name a Parquet table when data.source ="
          + " parquet", split);
    }
    return ExampleTables.readCollected(ctx.spark(), path, ExampleTables.DATA, "data.parquet." + split, false,
        numFeatures, numClasses, "data.parquet." + split + " (" + path + ")");
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
