package dev.lethe.tests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Outputs appear only whole: a stage writes under {@code _staging/<stage>-<uuid>/} and renames into place on
 * success, Parquet tables carry {@code _SUCCESS}. What a killed stage leaves behind (its staging directory, or a
 * table without its marker) is never accepted by a later stage, and rerunning the stage repairs the workdir.
 */
class AtomicOutputsTest {

  /**
   * A train stage killed in its commit, after publishing the provenance file and before renaming the model into
   * place: the model exists only under _staging, which no stage reads; the rerun replaces the orphaned provenance.
   */
  @Test
  void killedStageLeavesOnlyStagingThatNoStageAccepts() throws IOException {
    Path work = SmallWorkdir.copy("killed-train");
    Path staged = work.resolve("_staging/train-0b6c0d6e-killed/model/base.zip");
    Files.createDirectories(staged.getParent());
    Files.move(work.resolve("model/base.zip"), staged);
    Files.deleteIfExists(work.resolve("model/.base.zip.crc"));
    SmallWorkdir.delete(work.resolve("fisher"));
    assertThat(work.resolve("model/base.zip.provenance.json")).exists();

    SharedSpark.Run fisher = SmallWorkdir.run("fisher", work);
    assertThat(fisher.code()).as(fisher.err()).isEqualTo(2);
    assertThat(fisher.err().trim()).isEqualTo("lethe fisher: error: input file:" + work.resolve("model/base.zip")
        + " is missing: run `lethe train` first");
    assertThat(work.resolve("fisher")).doesNotExist();

    SharedSpark.Run train = SmallWorkdir.run("train", work);
    assertThat(train.code()).as(train.err()).isZero();
    assertThat(work.resolve("model/base.zip")).isNotEmptyFile();
    assertThat(Files.readString(work.resolve("model/base.zip.provenance.json"))).contains(work.toString());
    // the dead stage's directory is left for the operator; only this run's staging directory was removed
    try (Stream<Path> left = Files.list(work.resolve("_staging"))) {
      assertThat(left.map(p -> p.getFileName().toString()).toList()).containsExactly("train-0b6c0d6e-killed");
    }
    SharedSpark.Run again = SmallWorkdir.run("fisher", work);
    assertThat(again.code()).as(again.err()).isZero();
    assertThat(work.resolve("fisher/diag.bin")).isNotEmptyFile();
  }

  /** A table without _SUCCESS (a writer killed in place, or a half-finished copy) is refused by every reader. */
  @Test
  void tableWithoutSuccessMarkerIsRefusedUntilRewritten() throws IOException {
    Path work = SmallWorkdir.copy("no-marker");
    Files.delete(work.resolve("data/train.parquet/_SUCCESS"));
    Files.deleteIfExists(work.resolve("data/train.parquet/._SUCCESS.crc"));
    SmallWorkdir.delete(work.resolve("model"));

    SharedSpark.Run train = SmallWorkdir.run("train", work);
    assertThat(train.code()).as(train.err()).isEqualTo(2);
    assertThat(train.err().trim()).isEqualTo("lethe train: error: input file:" + work.resolve("data/train.parquet")
        + " is incomplete (no _SUCCESS marker): rerun `lethe prepare`");
    assertThat(work.resolve("model")).doesNotExist();
    assertThat(work.resolve("_staging")).doesNotExist();

    SharedSpark.Run prepare = SmallWorkdir.run("prepare", work, "--overwrite");
    assertThat(prepare.code()).as(prepare.err()).isZero();
    assertThat(work.resolve("data/train.parquet/_SUCCESS")).exists();
    SharedSpark.Run retrain = SmallWorkdir.run("train", work);
    assertThat(retrain.code()).as(retrain.err()).isZero();
    assertThat(work.resolve("model/base.zip")).isNotEmptyFile();
  }

  /** Without --overwrite a stage stops before any work and leaves the existing output byte for byte. */
  @Test
  void existingOutputIsNotTouchedWithoutOverwrite() throws IOException {
    Path work = SmallWorkdir.copy("no-overwrite");
    Map<String, byte[]> before = contents(work.resolve("data"));
    SharedSpark.Run r = SmallWorkdir.run("prepare", work, "--set", "data.train-size=100");
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err().trim()).isEqualTo("lethe prepare: error: output file:" + work.resolve("data/train.parquet")
        + " already exists; pass --overwrite to replace it");
    Map<String, byte[]> after = contents(work.resolve("data"));
    assertThat(after.keySet()).isEqualTo(before.keySet());
    before.forEach((name, bytes) -> assertThat(after.get(name)).as(name).isEqualTo(bytes));
    assertThat(work.resolve("_staging")).doesNotExist();
  }

  private static Map<String, byte[]> contents(Path dir) throws IOException {
    Map<String, byte[]> m = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.filter(Files::isRegularFile).toList()) {
        m.put(dir.relativize(p).toString(), Files.readAllBytes(p));
      }
    }
    assertThat(m).isNotEmpty();
    return m;
  }
}
