package dev.lethe.spark;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * identify ensemble on the small fixture: the rank average of two members' tables, bit for bit the same with 1, 3 and
 * 7 scoring partitions; a member without a table is bad input naming it.
 */
class EnsembleIdentifyTest {
  private static final List<String> SETS = Stream.concat(StageFixture.SMALL.stream(),
      Stream.of("identify.ensemble.methods=[loss, random]")).toList();

  @Test
  void aMemberWithoutItsTableIsBadInputNamingIt() throws IOException {
    Path wd = StageFixture.copy(StageFixture.small());
    // other test classes leave their ranking tables in the shared fixture
    IdentifyJobTest.deleteTree(wd.resolve("rankings"));
    StageFixture.ok("identify", wd, StageFixture.SMALL, "--method", "loss");
    StageFixture.Run r = StageFixture.run("identify", wd, SETS, "--method", "ensemble");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("rankings/random.parquet").contains("identify --method random");
    assertThat(wd.resolve("rankings/ensemble.parquet")).doesNotExist();
  }

  @Test
  void ensembleRanksByMeanRankAndIsBitIdenticalWithOneThreeAndSevenPartitions() throws IOException {
    Path wd = StageFixture.copy(StageFixture.small());
    IdentifyJobTest.deleteTree(wd.resolve("rankings"));
    StageFixture.ok("identify", wd, StageFixture.SMALL, "--method", "loss");
    StageFixture.ok("identify", wd, StageFixture.SMALL, "--method", "random");
    Map<Long, Double> meanRank = new HashMap<>();
    for (String m : List.of("loss", "random")) {
      for (Row row : IdentifyJobTest.culprits(wd, m)) {
        meanRank.merge(row.getLong(0), row.getLong(2) / 2.0, Double::sum);
      }
    }
    List<Row> reference = null;
    for (int p : new int[] {1, 3, 7}) {
      List<String> sets = new ArrayList<>(SETS);
      sets.add("identify.partitions=" + p);
      StageFixture.ok("identify", wd, sets, "--method", "ensemble", "--overwrite");
      List<Row> rows = IdentifyJobTest.culprits(wd, "ensemble");
      assertThat(rows).hasSize(400);
      for (int i = 0; i < rows.size(); i++) {
        Row row = rows.get(i);
        assertThat(row.getLong(2)).isEqualTo(i + 1L);
        // r(z) = 1 - (mean rank - 1/2) / n, to double rounding
        assertThat(row.getDouble(1)).isCloseTo(1 - (meanRank.get(row.getLong(0)) - 0.5) / 400,
            org.assertj.core.api.Assertions.within(1e-15));
        if (i > 0) {
          Row prev = rows.get(i - 1);
          assertThat(meanRank.get(prev.getLong(0)) < meanRank.get(row.getLong(0))
              || meanRank.get(prev.getLong(0)).equals(meanRank.get(row.getLong(0)))
              && prev.getLong(0) < row.getLong(0)).as("rank %d", i + 1).isTrue();
        }
      }
      if (reference == null) {
        reference = rows;
      } else {
        assertThat(rows).as("ensemble with %d partitions", p).containsExactlyElementsOf(reference);
      }
    }
    com.typesafe.config.Config prov = dev.lethe.spark.io.RankingTables.provenance(dev.lethe.spark.io.Workdir.open(
        wd.toString(), SharedSpark.get().sparkContext().hadoopConfiguration(), false), "ensemble");
    assertThat(prov.getStringList("artefacts.members")).containsExactly("loss", "random");
    assertThat(prov.getConfigList("inputs").stream().map(c -> c.getString("path")).toList())
        .anyMatch(x -> x.endsWith("rankings/loss.parquet")).anyMatch(x -> x.endsWith("rankings/random.parquet"));
  }
}
