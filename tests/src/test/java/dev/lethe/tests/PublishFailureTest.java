package dev.lethe.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lethe.spark.io.Workdir;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A file system that refuses to delete or rename an old output must never cost the user data: publishing fails
 * with exit 1 and the file system's refusal as the last line, every old output stays as it was, nothing lands one
 * level too deep, and the only possible leftover is the stage's {@code _staging} directory. The refusals come from
 * {@link RefusingFileSystem} (tests run as root, whom read-only permissions do not stop).
 */
class PublishFailureTest {
  private static final byte[] OLD = "old output".getBytes(StandardCharsets.UTF_8);
  private static final byte[] NEW = "new output".getBytes(StandardCharsets.UTF_8);

  @AfterEach
  void clearRefusals() {
    RefusingFileSystem.reset();
  }

  private static Workdir open(Path local) {
    Configuration conf = new Configuration();
    RefusingFileSystem.register(conf);
    return Workdir.open(RefusingFileSystem.uri(local), conf, true);
  }

  /** A workdir whose table {@code t/table} (two part files) and file {@code m/model.bin} hold old outputs. */
  private static Path oldOutputs(String name) throws IOException {
    Path work = SmallWorkdir.newDir(name);
    Files.createDirectories(work.resolve("t/table"));
    Files.write(work.resolve("t/table/part-0"), OLD);
    Files.write(work.resolve("t/table/part-1"), OLD);
    Files.write(work.resolve("t/table/_SUCCESS"), new byte[0]);
    Files.write(work.resolve("t/table.provenance.json"), OLD);
    Files.createDirectories(work.resolve("m"));
    Files.write(work.resolve("m/model.bin"), OLD);
    Files.write(work.resolve("m/model.bin.provenance.json"), OLD);
    return work;
  }

  /** Stages a new table and model in {@code wd} and commits. */
  private static void publishNew(Workdir wd) {
    try (Workdir.Staging out = wd.stage("test")) {
      out.writeInto("t/table", "part-0", NEW);
      out.writeProvenance("t/table", "{\"new\": true}");
      out.writeBytes("m/model.bin", NEW);
      out.writeProvenance("m/model.bin", "{\"new\": true}");
      out.commit();
    }
  }

  static Map<String, byte[]> contents(Path dir) throws IOException {
    Map<String, byte[]> m = new TreeMap<>();
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.filter(Files::isRegularFile).toList()) {
        m.put(dir.relativize(p).toString(), Files.readAllBytes(p));
      }
    }
    return m;
  }

  private static void assertSameFiles(Map<String, byte[]> after, Map<String, byte[]> before) {
    assertThat(after.keySet()).isEqualTo(before.keySet());
    before.forEach((name, bytes) -> assertThat(after.get(name)).as(name).isEqualTo(bytes));
  }

  /**
   * Old outputs in a fresh workdir, {@code rel} of it refused through {@code refusal}: publishing fails with a
   * message containing {@code mention(work)}, and every old output is as it was, with nothing left beside it.
   */
  private static void assertRefusedAndUnchanged(String name, Set<String> refusal, String rel,
      Function<Path, String> mention) throws IOException {
    Path work = oldOutputs(name);
    Map<String, byte[]> before = contents(work);
    refusal.add(work.resolve(rel).toString());
    assertThatThrownBy(() -> publishNew(open(work))).isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining("cannot publish the outputs of test-").hasMessageContaining(mention.apply(work))
        .hasRootCauseInstanceOf(IOException.class);
    assertSameFiles(contents(work), before);
    assertThat(work.resolve("_staging")).doesNotExist();
    assertThat(work.resolve("t/table/table")).doesNotExist();
  }

  @Test
  void oldOutputThatCannotBeMovedAsideIsKept() throws IOException {
    assertRefusedAndUnchanged("pinned-table", RefusingFileSystem.PINNED, "t/table", work -> "cannot replace refusing:"
        + work.resolve("t/table") + ": the file system refused to move it aside");
  }

  /**
   * Hadoop's local rename falls back to copy-then-delete: under an immutable parent it copies the table, deletes its
   * part files and fails on the directory. The part files are put back from the copy.
   */
  @Test
  void renameThatCopiedAndEmptiedTheOldTableIsUndone() throws IOException {
    assertRefusedAndUnchanged("copy-then-fail", RefusingFileSystem.COPY_THEN_FAIL, "t/table",
        work -> "refused to move it aside");
  }

  /** The second output fails to move into place: the first, already published, is rolled back with it. */
  @Test
  void newOutputThatCannotBeRenamedIntoPlaceRollsEverythingBack() throws IOException {
    assertRefusedAndUnchanged("no-rename-onto", RefusingFileSystem.NO_RENAME_ONTO, "m/model.bin",
        work -> "cannot publish refusing:" + work.resolve("m/model.bin") + ": the file system refused to rename");
  }

  @Test
  void provenanceFileThatCannotBeMovedAsideIsKept() throws IOException {
    assertRefusedAndUnchanged("pinned-provenance", RefusingFileSystem.PINNED, "m/model.bin.provenance.json",
        work -> "m/model.bin.provenance.json: the file system refused to move it aside");
  }

  /**
   * A file system that refuses every rename onto the model's path cannot take the old model back either: it stays in
   * the staging directory, which is kept, and the error says where; every other output is rolled back.
   */
  @Test
  void oldOutputThatCannotBePutBackStaysInStagingAndIsNamed() throws IOException {
    Path work = oldOutputs("never-rename-onto");
    Map<String, byte[]> before = contents(work);
    RefusingFileSystem.NEVER_RENAME_ONTO.add(work.resolve("m/model.bin").toString());
    assertThatThrownBy(() -> publishNew(open(work))).isInstanceOf(UncheckedIOException.class)
        .hasMessageContaining("could not put back the old output refusing:" + work.resolve("m/model.bin")
            + " (now at refusing:" + work.resolve("_staging"));
    Map<String, byte[]> after = contents(work);
    before.remove("m/model.bin");
    before.forEach((name, bytes) -> assertThat(after.get(name)).as(name).isEqualTo(bytes));
    assertThat(work.resolve("m/model.bin")).doesNotExist();
    List<String> kept = after.keySet().stream().filter(k -> k.endsWith("/_replaced/m/model.bin")).toList();
    assertThat(kept).hasSize(1);
    assertThat(after.get(kept.get(0))).isEqualTo(OLD);
  }

  /** When the moved-aside copy cannot be deleted the new outputs are published and the copy stays in _staging. */
  @Test
  void undeletableReplacedCopyStaysInStagingOnly() throws IOException {
    Path work = oldOutputs("undeletable-copy");
    Workdir wd = open(work);
    List<String> stagingDirs = new ArrayList<>();
    try (Workdir.Staging out = wd.stage("test")) {
      out.writeBytes("m/model.bin", NEW);
      String stagingDir = out.path("m/model.bin").getParent().getParent().toUri().getPath();
      stagingDirs.add(stagingDir);
      RefusingFileSystem.UNDELETABLE.add(stagingDir + "/_replaced/m/model.bin");
      RefusingFileSystem.UNDELETABLE.add(stagingDir);
      out.commit();
    }
    assertThat(work.resolve("m/model.bin")).hasBinaryContent(NEW);
    assertThat(Path.of(stagingDirs.get(0), "_replaced/m/model.bin")).hasBinaryContent(OLD);
    try (Stream<Path> top = Files.list(work)) {
      assertThat(top.map(p -> p.getFileName().toString()).sorted().toList()).containsExactly("_staging", "m", "t");
    }
  }

  /**
   * The case end to end: {@code prepare --overwrite} over a training table the file system will not move or
   * delete exits 1 with the refusal as the last line; the old tables are byte for byte as they were, nothing is
   * nested inside them and no staging directory is left.
   */
  @Test
  void stageOverAnUndeletableOutputExitsOneAndKeepsIt() throws IOException {
    Path work = SmallWorkdir.copy("undeletable-train-table");
    Map<String, byte[]> before = contents(work.resolve("data"));
    RefusingFileSystem.register(SharedSpark.session().sparkContext().hadoopConfiguration());
    RefusingFileSystem.PINNED.add(work.resolve("data/train.parquet").toString());
    String[] args = SmallWorkdir.args(work, "--overwrite", "--set", "seed=7");
    args[1] = RefusingFileSystem.uri(work);
    SharedSpark.Run r = SharedSpark.run("prepare", args);

    assertThat(r.code()).as(r.err()).isEqualTo(1);
    List<String> lines = r.err().lines().toList();
    assertThat(lines).hasSize(2);
    assertThat(lines.get(0)).startsWith("lethe prepare: internal error (stack trace in the log above): ");
    assertThat(lines.get(1)).startsWith("lethe prepare: cause: java.io.IOException: cannot replace refusing:"
        + work.resolve("data/train.parquet") + ": the file system refused to move it aside (rename to refusing:"
        + work.resolve("_staging/prepare-")).endsWith("/_replaced/data/train.parquet failed); the old output is"
        + " unchanged");
    assertThat(r.out()).doesNotContain("finished");
    assertSameFiles(contents(work.resolve("data")), before);
    assertThat(work.resolve("data/train.parquet/train.parquet")).doesNotExist();
    assertThat(work.resolve("_staging")).doesNotExist();
  }

  /** The normal path through the same file system: the old outputs are replaced whole, nothing is left. */
  @Test
  void publishingReplacesEveryOutputWhole() throws IOException {
    Path work = oldOutputs("replace");
    publishNew(open(work));
    assertThat(contents(work).keySet()).containsExactlyInAnyOrder("t/table/part-0", "t/table.provenance.json",
        "m/model.bin", "m/model.bin.provenance.json");
    assertThat(work.resolve("t/table/part-0")).hasBinaryContent(NEW);
    assertThat(work.resolve("m/model.bin")).hasBinaryContent(NEW);
    assertThat(work.resolve("_staging")).doesNotExist();
  }
}
