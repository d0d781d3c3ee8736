package dev.lethe.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.lethe.data.BundledData;
import dev.lethe.data.ExampleSet;
import dev.lethe.spark.io.ExampleTables;
import dev.lethe.spark.io.WorkdirLayout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** prepare -> train -> failures on a small slice of the bundled data, in the shared local SparkSession. */
class FoundationPipelineTest {
  @TempDir
  static Path dir;
  static String wd;
  static SharedSpark.Run prepare;
  static SharedSpark.Run train;
  static SharedSpark.Run failures;

  static final String[] SETTINGS = {"--set", "data.train-size=300", "--set", "data.test-size=200",
      "--set", "noise.label-flip.rate=0.2", "--set", "train.max-epochs=2", "--set", "model.architecture=cnn"};

  static String[] args(String... extra) {
    String[] all = new String[2 + SETTINGS.length + extra.length];
    all[0] = "--workdir";
    all[1] = wd;
    System.arraycopy(SETTINGS, 0, all, 2, SETTINGS.length);
    System.arraycopy(extra, 0, all, 2 + SETTINGS.length, extra.length);
    return all;
  }

  @BeforeAll
  static void runStages() {
    wd = dir.resolve("work").toString();
    prepare = SharedSpark.run("prepare", args());
    train = SharedSpark.run("train", args());
    failures = SharedSpark.run("failures", args());
  }

  private static ExampleSet table(String rel, boolean dataSchema) {
    Dataset<Row> df = ExampleTables.read(SharedSpark.session(), wd + "/" + rel,
        dataSchema ? ExampleTables.DATA : ExampleTables.FAILURES, rel);
    return ExampleTables.collect(df, dataSchema, 784, 10, rel);
  }

  @Test
  void stagesSucceedAndSayWhatTheyDid() {
    assertThat(prepare.code()).as(prepare.err()).isZero();
    assertThat(prepare.out()).contains("300 training examples (36 label_flip), 200 test examples");
    assertThat(train.code()).as(train.err()).isZero();
    assertThat(train.out()).contains("cnn, 65642 parameters, 2 epochs");
    assertThat(failures.code()).as(failures.err()).isZero();
    assertThat(failures.out()).containsPattern("test accuracy \\d+\\.\\d\\d% \\(\\d+ of 200\\)");
  }

  @Test
  void dataTablesFollowTheContractAndRecordTheNoise() {
    ExampleSet train = table(WorkdirLayout.TRAIN, true);
    ExampleSet test = table(WorkdirLayout.TEST, true);
    assertThat(train.size()).isEqualTo(300);
    assertThat(test.size()).isEqualTo(200);
    // stratified: 30 per class; 6 source classes x round(0.2 x 30) = 36 flips between paired classes
    int flipped = 0;
    int[] perClass = new int[10];
    for (int i = 0; i < train.size(); i++) {
      perClass[train.originalLabel(i)]++;
      if (train.corruption(i).code().equals("label_flip")) {
        flipped++;
        assertThat(train.label(i)).isNotEqualTo(train.originalLabel(i));
        assertThat(List.of(0, 6, 2, 4, 7, 9)).contains(train.originalLabel(i), train.label(i));
      } else {
        assertThat(train.label(i)).isEqualTo(train.originalLabel(i));
      }
    }
    assertThat(flipped).isEqualTo(36);
    assertThat(perClass).containsOnly(30);
    assertThat(test.corruptions()).allMatch(c -> c.code().equals("none"));
  }

  @Test
  void parquetRoundTripKeepsEveryValue() {
    ExampleSet fromParquet = table(WorkdirLayout.TRAIN, true);
    ExampleSet bundled = BundledData.train();
    Map<Long, Integer> pos = new HashMap<>();
    for (int i = 0; i < bundled.size(); i++) {
      pos.put(bundled.id(i), i);
    }
    for (int i = 0; i < fromParquet.size(); i++) {
      int j = pos.get(fromParquet.id(i));
      assertThat(fromParquet.features(i)).isEqualTo(bundled.features(j));
      assertThat(fromParquet.originalLabel(i)).isEqualTo(bundled.label(j));
    }
    Dataset<Row> raw = SharedSpark.session().read().parquet(wd + "/" + WorkdirLayout.TRAIN);
    assertThat(raw.schema().simpleString())
        .isEqualTo("struct<id:bigint,features:array<float>,label:int,original_label:int,corruption:string>");
  }

  @Test
  void failureSetsPartitionTheTestSet() {
    ExampleSet q = table(WorkdirLayout.QUERY, false);
    ExampleSet h = table(WorkdirLayout.HOLDOUT, false);
    ExampleSet b = table(WorkdirLayout.BENCHMARK, false);
    ExampleSet rest = table(WorkdirLayout.CORRECT_HOLDOUT, false);
    assertThat(q.size() + h.size() + b.size() + rest.size()).isEqualTo(200);
    assertThat(b.size()).isPositive();
    assertThat(Math.abs(q.size() - h.size())).isLessThanOrEqualTo(1);
    assertThat(q.size()).isPositive();
    Dataset<Row> qRaw = SharedSpark.session().read().parquet(wd + "/" + WorkdirLayout.QUERY);
    assertThat(qRaw.filter("predicted = label").count()).isZero();
    Dataset<Row> restRaw = SharedSpark.session().read().parquet(wd + "/" + WorkdirLayout.CORRECT_HOLDOUT);
    assertThat(restRaw.filter("predicted != label").count()).isZero();
    assertThat(failures.out()).contains("query Fq " + q.size()).contains("holdout Fh " + h.size())
        .contains("benchmark B " + b.size()).contains("T\\F holdout " + rest.size());
  }

  @Test
  void everyOutputHasProvenance() throws IOException {
    Path model = Path.of(wd, "model/base.zip");
    assertThat(Files.size(model)).isGreaterThan(100_000);
    Config prov = ConfigFactory.parseFile(Path.of(wd, "model/base.zip.provenance.json").toFile());
    assertThat(prov.getString("stage")).isEqualTo("train");
    assertThat(prov.getInt("config.train.max-epochs")).isEqualTo(2);
    assertThat(prov.getString("fingerprint")).hasSize(16);
    assertThat(prov.getConfigList("inputs").get(0).getString("path")).endsWith("data/train.parquet");
    for (String rel : List.of(WorkdirLayout.TRAIN, WorkdirLayout.TEST, WorkdirLayout.QUERY, WorkdirLayout.HOLDOUT,
        WorkdirLayout.BENCHMARK, WorkdirLayout.CORRECT_HOLDOUT)) {
      assertThat(Path.of(wd, rel + ".provenance.json")).exists();
      assertThat(Path.of(wd, rel, "_SUCCESS")).exists();
    }
    assertThat(Path.of(wd, "_staging")).doesNotExist();
  }

  @Test
  void existingOutputsAreNotOverwrittenWithoutTheFlag() {
    SharedSpark.Run again = SharedSpark.run("failures", args());
    assertThat(again.code()).isEqualTo(2);
    assertThat(again.err()).contains("already exists").contains("--overwrite");
    SharedSpark.Run forced = SharedSpark.run("failures", args("--overwrite"));
    assertThat(forced.code()).as(forced.err()).isZero();
    // the same result line; the last line (wall time and peak memory) differs from run to run
    assertThat(withoutTimings(forced.out())).isEqualTo(withoutTimings(failures.out())).contains("failures: test"
        + " accuracy");
  }

  private static String withoutTimings(String out) {
    return out.replaceAll("(?m)^lethe \\S+: finished in .*$\\R?", "");
  }
}
