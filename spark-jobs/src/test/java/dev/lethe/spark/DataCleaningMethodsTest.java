package dev.lethe.spark;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import dev.lethe.model.TrainingCheckpoints;
import dev.lethe.spark.io.RankingTables;
import dev.lethe.spark.io.Workdir;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The identify methods from the data-cleaning literature (loss, tracin, self-influence, confident-learning) on the
 * small fixture: each writes one ranked row per training example, and the table is bit for bit the same with 1, 3
 * and 7 scoring partitions (tracin also with identify.tracin.normalize = cosine).
 */
class DataCleaningMethodsTest {
  /** Three folds of at most 3 epochs keep confident-learning's runs short. */
  private static final List<String> SETS = Stream.concat(StageFixture.SMALL.stream(),
      Stream.of("identify.confident-learning.folds=3", "identify.confident-learning.max-epochs=3")).toList();
  private static Path workdir;

  /**
   * A copy of the small fixture whose checkpoints file keeps only its last checkpoint, so tracin and self-influence
   * make one gradient pass (TracInTest checks the sum over several checkpoints).
   */
  private static synchronized Path workdir() throws IOException {
    if (workdir == null) {
      Path wd = StageFixture.copy(StageFixture.small());
      Path file = wd.resolve("model/checkpoints.bin");
      TrainingCheckpoints all = TrainingCheckpoints.fromBytes(Files.readAllBytes(file), file.toString());
      assertThat(all.size()).isGreaterThanOrEqualTo(2);
      List<TrainingCheckpoints.Checkpoint> last = all.checkpoints().subList(all.size() - 1, all.size());
      Files.deleteIfExists(wd.resolve("model/.checkpoints.bin.crc"));
      Files.write(file, new TrainingCheckpoints(all.config(), all.modelFingerprint(), last).toBytes());
      workdir = wd;
    }
    return workdir;
  }

  @ParameterizedTest
  @ValueSource(strings = {"loss", "tracin", "tracin:cosine", "self-influence", "confident-learning"})
  void culpritsAreBitIdenticalWithOneThreeAndSevenPartitions(String variant) throws IOException {
    String method = variant.split(":")[0];
    String normalize = variant.contains(":") ? variant.split(":")[1] : "none";
    Path wd = workdir();
    assertThat(wd.resolve("model/checkpoints.bin")).exists();
    List<Row> reference = null;
    for (int p : new int[] {1, 3, 7}) {
      List<String> sets = new ArrayList<>(SETS);
      sets.add("identify.partitions=" + p);
      sets.add("identify.tracin.normalize=" + normalize);
      StageFixture.Run r = StageFixture.ok("identify", wd, sets, "--method", method, "--overwrite");
      assertThat(r.out()).contains("identify: " + method + " scored 400 training examples");
      List<Row> rows = IdentifyJobTest.culprits(wd, method);
      assertThat(rows).hasSize(400);
      for (int i = 0; i < rows.size(); i++) {
        assertThat(rows.get(i).getLong(2)).isEqualTo(i + 1L);
        assertThat(Double.isFinite(rows.get(i).getDouble(1))).isTrue();
      }
      assertThat(rows.stream().map(x -> x.getLong(0)).distinct().count()).isEqualTo(400);
      if (reference == null) {
        reference = rows;
      } else {
        // the whole table, scores included, equal to the bit
        assertThat(rows).as("%s with %d partitions", method, p).containsExactlyElementsOf(reference);
      }
    }
    Config prov = RankingTables.provenance(Workdir.open(wd.toString(),
        SharedSpark.get().sparkContext().hadoopConfiguration(), false), method);
    if (method.equals("confident-learning")) {
      assertThat(prov.getInt("artefacts.folds")).isEqualTo(3);
      assertThat(prov.getList("diagnostics.noiseMatrix")).hasSize(10);
      assertThat(prov.getList("diagnostics.thresholds")).hasSize(10);
    }
    if (method.equals("tracin") || method.equals("self-influence")) {
      assertThat(prov.getIntList("artefacts.checkpoint_epochs")).hasSize(1);
      assertThat(Files.exists(wd.resolve("model/checkpoints.bin.provenance.json"))).isTrue();
    }
    if (method.equals("tracin")) {
      assertThat(prov.getString("diagnostics.normalize")).isEqualTo(normalize);
    }
  }
}
