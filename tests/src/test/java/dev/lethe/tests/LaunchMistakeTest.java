package dev.lethe.tests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Mistakes in how a stage is launched and destinations that cannot be written stop the stage before any work: a
 * user mistake with exit 2 and one line naming the argument and its value as given, an environment failure during
 * the work with exit 1 and the file system's reason as the last line.
 */
class LaunchMistakeTest {
  @AfterEach
  void clearRefusals() {
    RefusingFileSystem.reset();
  }

  private static void assertOneLine(SharedSpark.Run r, String line) {
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err().lines().toList()).containsExactly(line);
  }

  /** {@code --workdir "$WORKDIR"} with the variable unset. */
  @Test
  void emptyWorkdir() {
    assertOneLine(SharedSpark.run("prepare", "--workdir", ""),
        "lethe: error: --workdir '': empty (an unset variable?); give a directory");
    assertOneLine(SharedSpark.run("prepare", "--workdir", "  "),
        "lethe: error: --workdir '  ': empty (an unset variable?); give a directory");
  }

  @Test
  void masterUrlsSparkWouldReject() {
    Path work = SmallWorkdir.newDir("bad-master");
    String expected = " (expected local, local[N], local[*], local[N,F], spark://HOST:PORT, yarn or k8s://HOST:PORT)";
    assertOneLine(SharedSpark.run("prepare", "--workdir", work.toString(), "--master", "foo://bar"),
        "lethe: error: --master 'foo://bar': not a Spark master URL" + expected);
    assertOneLine(SharedSpark.run("prepare", "--workdir", work.toString(), "--master", "local[0]"),
        "lethe: error: --master 'local[0]': local[N] needs N >= 1 threads" + expected);
    assertOneLine(SharedSpark.run("prepare", "--workdir", work.toString(), "--master", "spark://host-without-port"),
        "lethe: error: --master 'spark://host-without-port': spark:// needs HOST:PORT (comma-separated for standby"
            + " masters)" + expected);
    assertThat(work.resolve("data")).doesNotExist();
  }

  /** A read-only workdir (root ignores permissions, so the file system refuses): the write probe stops the stage. */
  @Test
  void readOnlyWorkdirStopsBeforeAnyWork() {
    Path work = SmallWorkdir.newDir("read-only");
    RefusingFileSystem.register(SharedSpark.session().sparkContext().hadoopConfiguration());
    RefusingFileSystem.NO_CREATE_UNDER.add(work.toString());
    String[] args = SmallWorkdir.args(work);
    args[1] = RefusingFileSystem.uri(work);
    SharedSpark.Run r = SharedSpark.run("prepare", args);
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err().lines().toList()).hasSize(1);
    assertThat(r.err().trim()).startsWith("lethe prepare: error: --workdir refusing:" + work + ": cannot write there: "
        + work.resolve("_staging/.write-probe-")).endsWith(": Read-only file system");
    assertThat(r.out()).isEmpty();
    assertThat(work.resolve("data")).doesNotExist();
  }

  /** The disk fills while prepare writes its tables: exit 1, the reason last, the old tables untouched. */
  @Test
  void fullDiskDuringPrepareEndsWithTheReason() throws IOException {
    Path work = SmallWorkdir.copy("full-disk");
    Map<String, byte[]> before = PublishFailureTest.contents(work.resolve("data"));
    RefusingFileSystem.register(SharedSpark.session().sparkContext().hadoopConfiguration());
    RefusingFileSystem.createError = "No space left on device";
    RefusingFileSystem.NO_CREATE_UNDER.add(work.resolve("_staging/prepare-").toString());
    String[] args = SmallWorkdir.args(work, "--overwrite");
    args[1] = RefusingFileSystem.uri(work);
    SharedSpark.Run r = SharedSpark.run("prepare", args);
    assertThat(r.code()).as(r.err()).isEqualTo(1);
    List<String> lines = r.err().lines().toList();
    assertThat(lines.get(0)).startsWith("lethe prepare: internal error (stack trace in the log above): ");
    assertThat(lines.get(lines.size() - 1)).contains("java.io.IOException: ").endsWith(": No space left on device");
    Map<String, byte[]> after = PublishFailureTest.contents(work.resolve("data"));
    assertThat(after.keySet()).isEqualTo(before.keySet());
    before.forEach((name, bytes) -> assertThat(after.get(name)).as(name).isEqualTo(bytes));
    assertThat(work.resolve("_staging")).doesNotExist();
  }

  /** A standalone master nobody listens on: one line with Spark's words, not a stopped SparkContext a minute later. */
  @Test
  void unreachableStandaloneMaster() throws Exception {
    int port;
    try (ServerSocket free = new ServerSocket(0)) {
      port = free.getLocalPort();
    }
    Path work = SmallWorkdir.newDir("no-master");
    AppJar.Run r = AppJar.run(List.of("prepare", "--workdir", work.toString(), "--master",
        "spark://127.0.0.1:" + port));
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err().trim().lines().reduce((a, b) -> b).orElse("")).startsWith("lethe prepare: error: --master"
        + " spark://127.0.0.1:" + port + ": All masters are unresponsive (127.0.0.1:" + port + ": Connection refused");
    assertThat(work.resolve("data")).doesNotExist();
  }

  /** Spark's own advice names spark-submit's option; bin/lethe users size the heap with LETHE_DRIVER_MEMORY. */
  @Test
  void tooLittleDriverMemoryNamesLetheDriverMemory() throws Exception {
    Path work = SmallWorkdir.newDir("small-heap");
    AppJar.Run r = AppJar.run(List.of("-Dspark.testing.memory=100000000"),
        List.of("prepare", "--workdir", work.toString(), "--master", "local[1]"));
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err().trim().lines().reduce((a, b) -> b).orElse("")).startsWith("lethe prepare: error: the"
        + " driver's heap is too small for Spark: ").contains("System memory 100000000 must be at least ")
        .endsWith("; raise LETHE_DRIVER_MEMORY for bin/lethe (or spark.driver.memory / --driver-memory for"
            + " spark-submit)");
    assertThat(work.resolve("data")).doesNotExist();
  }
}
