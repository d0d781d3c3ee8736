package dev.lethe.tests;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lethe.spark.StageRunner;
import dev.lethe.spark.cli.Console;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/**
 * One local SparkSession (local[2], UI off, bound to 127.0.0.1) shared by every test class of this module; stages
 * run through {@link StageRunner#run}, which reuses it and never stops it.
 */
final class SharedSpark {
  private static SparkSession spark;

  private SharedSpark() {}

  static synchronized SparkSession session() {
    if (spark == null) {
      spark = SparkSession.builder().appName("lethe-tests").master("local[2]")
          .config("spark.ui.enabled", "false")
          .config("spark.driver.host", "127.0.0.1")
          .config("spark.driver.bindAddress", "127.0.0.1")
          .config("spark.sql.shuffle.partitions", "4")
          .getOrCreate();
    }
    return spark;
  }

  /** The outcome of one stage run: exit code and what it printed. */
  record Run(int code, String out, String err) {}

  /** Runs {@code stage} with {@code args} in the shared session. */
  static Run run(String stage, String... args) {
    session();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Console console = new Console(new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
    List<String> all = new ArrayList<>(Arrays.asList(args));
    int code = StageRunner.run(stage, all.toArray(new String[0]), console);
    return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  /**
   * Runs prepare, failures, fisher and identify with {@code args} (a user's own model: no train stage), then repair
   * with {@code --method repairMethod}, asserting that each exits 0.
   */
  static void runThroughRepair(List<String> args, String repairMethod) {
    for (String stage : List.of("prepare", "failures", "fisher", "identify")) {
      Run r = run(stage, args.toArray(new String[0]));
      assertThat(r.code()).as(stage + ": " + r.err()).isZero();
    }
    List<String> repair = new ArrayList<>(args);
    repair.addAll(List.of("--method", repairMethod));
    Run r = run("repair", repair.toArray(new String[0]));
    assertThat(r.code()).as("repair: " + r.err()).isZero();
  }
}
