package dev.lethe.spark;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lethe.spark.cli.Console;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Runs stages in the shared session and builds the small workdir fixture once per JVM: the bundled data cut to
 * 400 training / 300 test examples with 30% label flips, an MLP trained for 5 epochs, its failures and its Fisher
 * diagonal. Public for the bench module's tests (this module's test-jar).
 */
public final class StageFixture {
  /** The settings of the small fixture, passed to every stage run on it. */
  public static final List<String> SMALL = List.of("data.train-size=400", "data.test-size=300",
      "noise.label-flip.rate=0.3", "model.architecture=mlp", "train.max-epochs=5");

  private static Path small;

  private StageFixture() {}

  /** The outcome of one stage run. */
  public record Run(int code, String out, String err) {}

  /** Runs {@code stage} on {@code workdir} with {@code sets} as --set overrides, plus {@code extra} arguments. */
  public static Run run(String stage, Path workdir, List<String> sets, String... extra) {
    SharedSpark.get();
    List<String> args = new ArrayList<>(List.of(stage, "--workdir", workdir.toString()));
    for (String s : sets) {
      args.add("--set");
      args.add(s);
    }
    args.addAll(List.of(extra));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = StageRunner.run(null, args.toArray(new String[0]),
        new Console(new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true,
            StandardCharsets.UTF_8)));
    Run r = new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    System.err.printf("lethe %s -> %d%n%s%s", String.join(" ", args), code, r.out(), r.err());
    return r;
  }

  /** As {@link #run}, asserting exit code 0. */
  public static Run ok(String stage, Path workdir, List<String> sets, String... extra) {
    Run r = run(stage, workdir, sets, extra);
    assertThat(r.code()).as("exit code of %s; stderr: %s", stage, r.err()).isZero();
    return r;
  }

  /** The small fixture workdir (prepare, train, failures, fisher done); built on first use. */
  public static synchronized Path small() {
    if (small == null) {
      Path dir = newDir("small");
      for (String stage : List.of("prepare", "train", "failures", "fisher")) {
        ok(stage, dir, SMALL);
      }
      small = dir;
    }
    return small;
  }

  /** A fresh directory under the build's test-tmp. */
  public static Path newDir(String prefix) {
    try {
      Path base = Path.of(System.getProperty("lethe.test.tmp", System.getProperty("java.io.tmpdir")));
      Files.createDirectories(base);
      return Files.createDirectory(base.resolve(prefix + "-" + UUID.randomUUID()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A copy of a workdir (to damage it in bad-input tests). */
  public static Path copy(Path from) {
    Path to = newDir("copy");
    try (Stream<Path> walk = Files.walk(from)) {
      for (Path p : (Iterable<Path>) walk::iterator) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return to;
  }
}
