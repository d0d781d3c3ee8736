package dev.lethe.tests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.UnaryOperator;
import org.apache.commons.io.FileUtils;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * A small finished workdir (prepare, train, failures, fisher on 200 training and 200 test examples of the bundled
 * data, softmax regression trained for one epoch), built once per test JVM and copied for every test that damages
 * it, so each bad-input or reliability case costs one failing stage run, not a pipeline.
 */
final class SmallWorkdir {
  /** The settings of the fixture; pass them to every stage run on a copy. */
  static final List<String> SETTINGS = List.of("--set", "data.train-size=200", "--set", "data.test-size=200",
      "--set", "model.architecture=logistic", "--set", "train.max-epochs=1", "--set", "identify.partitions=3",
      "--set", "fisher.partitions=3", "--set", "identify.ewc.max-epochs=5");

  private static Path base;

  private SmallWorkdir() {}

  /** Arguments for {@code stage} on {@code work}: --workdir, the fixture settings, then {@code extra}. */
  static String[] args(Path work, String... extra) {
    List<String> a = new ArrayList<>(List.of("--workdir", work.toString()));
    a.addAll(SETTINGS);
    a.addAll(List.of(extra));
    return a.toArray(new String[0]);
  }

  /** Runs {@code stage} on {@code work} with the fixture settings. */
  static SharedSpark.Run run(String stage, Path work, String... extra) {
    return SharedSpark.run(stage, args(work, extra));
  }

  /** The finished fixture; never modify it, take a {@link #copy}. */
  static synchronized Path base() {
    if (base == null) {
      Path dir = newDir("small-base");
      for (String stage : List.of("prepare", "train", "failures", "fisher")) {
        SharedSpark.Run r = run(stage, dir);
        assertThat(r.code()).as("%s: %s", stage, r.err()).isZero();
      }
      base = dir;
    }
    return base;
  }

  /** A fresh copy of the fixture. */
  static Path copy(String name) {
    Path to = newDir(name);
    try {
      FileUtils.copyDirectory(base().toFile(), to.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return to;
  }

  /** Replaces table {@code rel} of {@code work} by {@code change} applied to the fixture's table (3 part files). */
  static void rewriteTable(Path work, String rel, UnaryOperator<Dataset<Row>> change) {
    Dataset<Row> original = SharedSpark.session().read().parquet(base().resolve(rel).toString());
    delete(work.resolve(rel));
    change.apply(original).repartition(3).write().parquet(work.resolve(rel).toString());
  }

  /** Overwrites a file with {@code bytes}, dropping Hadoop's checksum file so the new content is what is read. */
  static void overwrite(Path file, byte[] bytes) {
    try {
      Files.deleteIfExists(file.resolveSibling("." + file.getFileName() + ".crc"));
      Files.write(file, bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Deletes a file or a directory tree, if it exists. */
  static void delete(Path p) {
    try {
      if (Files.exists(p)) {
        FileUtils.forceDelete(p.toFile());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A fresh directory under the build's test-tmp (target/test-tmp). */
  static Path newDir(String prefix) {
    try {
      Path root = Path.of(System.getProperty("lethe.test.tmp", System.getProperty("java.io.tmpdir")));
      Files.createDirectories(root);
      return Files.createDirectory(root.resolve(prefix + "-" + UUID.randomUUID()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
