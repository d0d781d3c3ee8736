package dev.lethe.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lethe.spark.SharedSpark;
import dev.lethe.spark.StageFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The scale suite's plain loop (the Spark-free side of its overhead measurement) does identify's work: like
 * ewc-influence, it looks log p(z | theta_hat) up in fisher/logp.bin when the fisher stage wrote one (one forward pass
 * per row) and computes it otherwise (two), and checks every score against the ranking table inside. On the small
 * fixture's settings with the paper CNN trained for one epoch (a network whose fisher stage writes the table).
 */
class PlainLoopTest {
  private static final List<String> CNN = Stream.concat(StageFixture.SMALL.stream().filter(
      s -> !s.startsWith("model.architecture") && !s.startsWith("train.max-epochs")),
      Stream.of("model.architecture=cnn", "train.max-epochs=1", "identify.partitions=3")).toList();

  @Test
  void runsOnePassPerRowWithTheFisherStagesTableAndTwoWithout() throws Exception {
    Path wd = StageFixture.newDir("plain-loop");
    for (String stage : List.of("prepare", "train", "failures", "fisher")) {
      StageFixture.ok(stage, wd, CNN);
    }
    StageFixture.ok("identify", wd, CNN, "--method", "ewc-influence");
    assertThat(ScaleSuite.plainLoop(SharedSpark.get(), wd, 64, 10, 0, 1).forwardPassesPerRow()).isEqualTo(1);

    for (String f : List.of("logp.bin", ".logp.bin.crc", "logp.bin.provenance.json", ".logp.bin.provenance.json.crc")) {
      Files.delete(wd.resolve("fisher").resolve(f));
    }
    StageFixture.ok("identify", wd, CNN, "--method", "ewc-influence", "--overwrite");
    assertThat(ScaleSuite.plainLoop(SharedSpark.get(), wd, 64, 10, 0, 1).forwardPassesPerRow()).isEqualTo(2);
  }
}
