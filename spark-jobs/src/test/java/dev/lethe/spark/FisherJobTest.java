package dev.lethe.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.lethe.data.ExampleSet;
import dev.lethe.math.DiagonalFisher;
import dev.lethe.math.EmpiricalFisher;
import dev.lethe.math.NetworkBytes;
import dev.lethe.model.ModelStore;
import dev.lethe.spark.io.ExampleTables;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;

class FisherJobTest {

  @Test
  void fisherIsIdenticalForEveryPartitioningAndMatchesTheSingleProcessSum() throws IOException {
    Path wd = StageFixture.copy(StageFixture.small());
    DiagonalFisher one = fisher(wd, 1);
    DiagonalFisher three = fisher(wd, 3);

    MultiLayerNetwork net = ModelStore.read(Files.newInputStream(wd.resolve("model/base.zip")), "base.zip");
    assertThat(one.count()).isEqualTo(400);
    assertThat(one.modelFingerprint()).isEqualTo(NetworkBytes.fingerprint(net));
    // the published values are rounded to float precision: partitionings agree bit for bit
    assertThat(three.values()).containsExactly(one.values());
    assertThat(three.count()).isEqualTo(one.count());

    ExampleSet train = ExampleTables.collect(SharedSpark.get().read().parquet(wd.resolve("data/train.parquet")
        .toString()), true, 784, 10, "train");
    double[] expected = EmpiricalFisher.compute(net, train).values();
    for (int j = 0; j < expected.length; j++) {
      // float rounding of the mean: relative 2^-24, absolute floor for zero entries
      assertThat(one.values()[j]).isCloseTo(expected[j], within(1e-7 * Math.abs(expected[j]) + 1e-30));
    }
    List<Double> positive = new ArrayList<>();
    for (double v : one.values()) {
      if (v > 0) {
        positive.add(v);
      }
    }
    assertThat(positive.size()).as("non-zero Fisher entries").isGreaterThan(expected.length / 2);
  }

  private static DiagonalFisher fisher(Path wd, int partitions) throws IOException {
    StageFixture.Run r = StageFixture.ok("fisher", wd, withPartitions(partitions), "--overwrite");
    assertThat(r.out()).contains("fisher: 400 examples").contains(partitions + " partitions");
    assertThat(wd.resolve("fisher/diag.bin.provenance.json")).exists();
    return DiagonalFisher.fromBytes(Files.readAllBytes(wd.resolve("fisher/diag.bin")), "diag.bin");
  }

  private static List<String> withPartitions(int p) {
    List<String> sets = new ArrayList<>(StageFixture.SMALL);
    sets.add("fisher.partitions=" + p);
    return sets;
  }
}
