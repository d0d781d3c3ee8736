package dev.lethe.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.junit.jupiter.api.Test;

/**
 * results.csv is on disk row by row, also when a resumed suite rewrites it (a killed suite keeps what it measured),
 * without a local checksum file, and reads back as written.
 */
class BenchResultsTest {

  @Test
  void everyRowIsOnDiskBeforeCloseAlsoWhenResumed() throws Exception {
    Path base = Files.createDirectories(Path.of(System.getProperty("lethe.test.tmp",
        System.getProperty("java.io.tmpdir"))));
    Path dir = Files.createTempDirectory(base, "results");
    FileSystem fs = FileSystem.getLocal(new Configuration());
    org.apache.hadoop.fs.Path file = new org.apache.hadoop.fs.Path(dir.resolve("results.csv").toUri());
    try (BenchResults r = new BenchResults("paper", fs, file)) {
      r.add("timing", "label-flip", 42, "ewc-influence", "identify_wall_seconds", 9.5, "s");
      assertThat(Files.readAllLines(dir.resolve("results.csv"))).containsExactly(BenchResults.HEADER,
          "paper,timing,label-flip,42,ewc-influence,identify_wall_seconds,9.5,s");
    }
    List<BenchResults.Row> earlier = BenchResults.read(fs, file);
    assertThat(earlier).hasSize(1);
    try (BenchResults r = new BenchResults("paper", fs, file, earlier)) {
      r.add("run", "label-flip", 43, "bench", "complete", 1, "flag");
      // before close: the kept row and the new one are in the file
      assertThat(Files.readAllLines(dir.resolve("results.csv"))).containsExactly(BenchResults.HEADER,
          "paper,timing,label-flip,42,ewc-influence,identify_wall_seconds,9.5,s",
          "paper,run,label-flip,43,bench,complete,1.0,flag");
    }
    assertThat(dir.resolve(".results.csv.crc")).doesNotExist();
    assertThat(dir.resolve(BenchResults.PREVIOUS)).hasContent(BenchResults.HEADER
        + "\npaper,timing,label-flip,42,ewc-influence,identify_wall_seconds,9.5,s");
    assertThat(BenchResults.read(fs, file)).hasSize(2).last()
        .satisfies(row -> assertThat(row.metric()).isEqualTo("complete"));
    assertThat(BenchResults.fields("a,\"b,\"\"c\"\"\",d")).containsExactly("a", "b,\"c\"", "d");
  }
}
