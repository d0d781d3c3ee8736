package dev.lethe.spark;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import dev.lethe.data.ExampleSet;
import dev.lethe.math.LogLikelihood;
import dev.lethe.math.NetworkBytes;
import dev.lethe.math.RowLogLikelihoods;
import dev.lethe.model.ModelStore;
import dev.lethe.spark.io.RankingTables;
import dev.lethe.spark.io.ExampleTables;
import dev.lethe.spark.io.Workdir;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * fisher/logp.bin: the fisher stage records log p(z | theta_hat) of every training example for a CNN (which FastCnn
 * runs), ewc-influence's identify looks it up instead of running a second forward pass per example, and the
 * culprits are the same to the bit as without it; a table that does not match the training table is bad input. On
 * the small fixture's settings with the paper CNN trained for one epoch.
 */
class FisherLogLikelihoodTest {
  private static final List<String> CNN = Stream.concat(StageFixture.SMALL.stream().filter(
      s -> !s.startsWith("model.architecture") && !s.startsWith("train.max-epochs")),
      Stream.of("model.architecture=cnn", "train.max-epochs=1")).toList();
  private static Path cnn;

  @BeforeAll
  static void cnnWorkdir() {
    cnn = StageFixture.newDir("cnn");
    for (String stage : List.of("prepare", "train", "failures", "fisher")) {
      StageFixture.ok(stage, cnn, CNN);
    }
  }

  @Test
  void ewcInfluenceLooksUpTheFisherStagesLogLikelihoodsAndScoresAsWithTwoPasses() throws IOException {
    Path wd = StageFixture.copy(cnn);
    MultiLayerNetwork net = ModelStore.read(Files.newInputStream(wd.resolve("model/base.zip")), "base.zip");
    RowLogLikelihoods table = RowLogLikelihoods.fromBytes(Files.readAllBytes(wd.resolve("fisher/logp.bin")),
        "logp.bin");
    assertThat(table.size()).isEqualTo(400);
    assertThat(table.modelFingerprint()).isEqualTo(NetworkBytes.fingerprint(net));
    // the values of the double-precision copy of theta_hat, to the bit, for every training row
    ExampleSet train = ExampleTables.collect(SharedSpark.get().read().parquet(wd.resolve("data/train.parquet")
        .toString()), true, 784, 10, "train");
    MultiLayerNetwork copy = NetworkBytes.rebuild(NetworkBytes.configBytes(net), NetworkBytes.paramBytes(net.params()),
        DataType.DOUBLE);
    double[] want = LogLikelihood.perExample(copy, train, 64);
    for (int i = 0; i < train.size(); i++) {
      assertThat(table.lookup(train, i)).as("row %d", i).isEqualTo(want[i]);
    }

    List<String> sets = Stream.concat(CNN.stream(), Stream.of("identify.partitions=3")).toList();
    StageFixture.ok("identify", wd, sets, "--method", "ewc-influence");
    Config withTable = RankingTables.provenance(Workdir.open(wd.toString(), SharedSpark.get().sparkContext()
        .hadoopConfiguration(), false), "ewc-influence");
    assertThat(withTable.getInt("diagnostics.forwardPassesPerRow")).isEqualTo(1);
    assertThat(withTable.getString("diagnostics.logpBeforeFrom")).isEqualTo("fisher stage");
    assertThat(withTable.getConfigList("inputs").stream().map(c -> c.getString("path")))
        .anyMatch(p -> p.endsWith("fisher/logp.bin"));
    List<Row> a = IdentifyJobTest.culprits(wd, "ewc-influence");

    for (String f : List.of("logp.bin", ".logp.bin.crc", "logp.bin.provenance.json", ".logp.bin.provenance.json.crc")) {
      Files.delete(wd.resolve("fisher").resolve(f));
    }
    StageFixture.ok("identify", wd, sets, "--method", "ewc-influence", "--overwrite");
    Config without = RankingTables.provenance(Workdir.open(wd.toString(), SharedSpark.get().sparkContext()
        .hadoopConfiguration(), false), "ewc-influence");
    assertThat(without.getInt("diagnostics.forwardPassesPerRow")).isEqualTo(2);
    List<Row> b = IdentifyJobTest.culprits(wd, "ewc-influence");
    // id, score, rank, label, logp_before, logp_after, method: equal, to the bit
    assertThat(a).hasSize(400).containsExactlyElementsOf(b);
    assertThat(a.get(0).getDouble(1)).isGreaterThan(0.0);
  }

  @Test
  void aTableThatDoesNotMatchTheTrainingRowsIsBadInputAndWritesNothing() throws IOException {
    Path wd = StageFixture.copy(cnn);
    MultiLayerNetwork net = ModelStore.read(Files.newInputStream(wd.resolve("model/base.zip")), "base.zip");
    String fp = NetworkBytes.fingerprint(net);
    ExampleSet train = ExampleTables.collect(SharedSpark.get().read().parquet(wd.resolve("data/train.parquet")
        .toString()), true, 784, 10, "train");
    double[] ll = new double[train.size()];
    java.util.Arrays.fill(ll, -1.0);

    // one row recorded with another label: found when its partition is scored
    int[] labels = train.labels().clone();
    labels[17] = (labels[17] + 1) % 10;
    long[] ids = new long[train.size()];
    float[][] features = new float[train.size()][];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = train.id(i);
      features[i] = train.features(i);
    }
    ExampleSet relabelled = ExampleSet.clean(ids, features, labels, 784);
    writeTable(wd, new RowLogLikelihoods.Builder().add(relabelled, ll).build(fp, "t"));
    StageFixture.Run r = StageFixture.run("identify", wd, CNN, "--method", "ewc-influence");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("fisher/logp.bin").contains("training row id " + train.id(17))
        .contains("rerun `lethe fisher --overwrite`");
    assertThat(wd.resolve("rankings/ewc-influence.parquet")).doesNotExist();
    assertThat(wd.resolve("model/ewc-updated.zip")).doesNotExist();
    assertThat(wd.resolve("_staging")).doesNotExist();

    // a row missing: the row counts differ
    int[] first = new int[train.size() - 1];
    for (int i = 0; i < first.length; i++) {
      first[i] = i;
    }
    writeTable(wd, new RowLogLikelihoods.Builder().add(train.select(first), java.util.Arrays.copyOf(ll, first.length))
        .build(fp, "t"));
    r = StageFixture.run("identify", wd, CNN, "--method", "ewc-influence");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("fisher/logp.bin").contains("holds 399 rows, the training table has 400");
    assertThat(wd.resolve("rankings/ewc-influence.parquet")).doesNotExist();
  }

  @Test
  void aFisherRunThatRecordsNoTableRemovesAnEarlierOne() throws IOException {
    // the MLP fixture: DL4J's forward pass, whose values depend on the batch shape, so no table is recorded
    Path wd = StageFixture.copy(StageFixture.small());
    assertThat(wd.resolve("fisher/logp.bin")).doesNotExist();
    Files.copy(cnn.resolve("fisher/logp.bin"), wd.resolve("fisher/logp.bin"));
    StageFixture.ok("fisher", wd, StageFixture.SMALL, "--overwrite");
    assertThat(wd.resolve("fisher/logp.bin")).doesNotExist();
    assertThat(wd.resolve("fisher/diag.bin")).exists();
    assertThat(Files.readString(wd.resolve("fisher/diag.bin.provenance.json")))
        .contains("\"log_likelihoods\" : false");
  }

  @Test
  void anExistingTableIsNotReplacedWithoutTheFlag() throws IOException {
    // even with no diag.bin beside it: fisher refuses before any work
    Path wd = StageFixture.copy(cnn);
    Files.delete(wd.resolve("fisher/diag.bin"));
    byte[] before = Files.readAllBytes(wd.resolve("fisher/logp.bin"));
    StageFixture.Run r = StageFixture.run("fisher", wd, CNN);
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("fisher/logp.bin already exists; pass --overwrite");
    assertThat(wd.resolve("fisher/diag.bin")).doesNotExist();
    assertThat(Files.readAllBytes(wd.resolve("fisher/logp.bin"))).isEqualTo(before);
  }

  private static void writeTable(Path wd, RowLogLikelihoods t) throws IOException {
    Files.deleteIfExists(wd.resolve("fisher/.logp.bin.crc"));
    Files.write(wd.resolve("fisher/logp.bin"), t.toBytes());
  }
}
