package dev.lethe.spark.cli;

import dev.lethe.LetheInputException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The command-line contract shared by every stage:
 * {@code <stage> --workdir DIR [--config FILE] [--set key=value ...] [--master M] [--method NAME] [--overwrite]},
 * plus {@code --suite NAME} and {@code --resume} for {@code bench} (whose {@code --workdir} is the output root,
 * default {@code bench}).
 * The same arguments work from bin/lethe, spark-submit application arguments, Airflow and Databricks.
 */
public record StageArgs(String stage, String workdir, Optional<String> configFile, List<String> overrides,
    Optional<String> master, Optional<String> method, Optional<String> suite, boolean overwrite, boolean resume,
    boolean help) {
  /** The stage that takes {@code --suite}, its default suite and its default output root. */
  public static final String BENCH = "bench";
  public static final String DEFAULT_SUITE = "quick";
  public static final String BENCH_ROOT = "bench";

  public static final String USAGE = String.join("\n",
      "usage: lethe <stage> --workdir DIR [--config FILE] [--set key=value ...] [--master M]",
      "                     [--method NAME] [--overwrite]",
      "       lethe bench [--suite quick|paper|scale|backend] [--workdir ROOT] [--config FILE] [--set key=value ...]",
      "                   [--overwrite | --resume]",
      "stages: prepare train failures fisher identify repair report pipeline demo bench",
      "  --workdir DIR     where stage inputs and outputs live (any Hadoop path: file:/, hdfs://, s3a://, dbfs:/)",
      "  --config FILE     HOCON file layered over conf/reference.conf",
      "  --set key=value   override one config key (repeatable), e.g. --set train.max-epochs=10",
      "  --master M        Spark master; omit under spark-submit/Databricks (bin/lethe defaults to local[*])",
      "  --method NAME     identify: identify.method; repair: repair.method",
      "  --overwrite       replace existing outputs (otherwise a stage refuses to overwrite)",
      "  --suite NAME      bench only: the benchmark suite (default quick); results in ROOT/NAME/ (ROOT default bench)",
      "  --resume          bench only (quick, paper): continue ROOT/NAME/ with the same configuration and build,",
      "                    keeping the setting x seed runs an earlier invocation completed and running the rest",
      "exit codes: 0 success, 2 bad input or config (message on stderr), 1 internal error");

  /**
   * Parses {@code args}; {@code stage} is given when the entry point fixes it (one main class per stage),
   * otherwise the first argument names it.
   */
  public static StageArgs parse(String fixedStage, String[] args) {
    int i = 0;
    String stage = fixedStage;
    if (stage == null) {
      if (args.length == 0 || args[0].startsWith("-")) {
        if (args.length > 0 && (args[0].equals("--help") || args[0].equals("-h"))) {
          return new StageArgs("", "", Optional.empty(), List.of(), Optional.empty(), Optional.empty(),
              Optional.empty(), false, false, true);
        }
        throw new LetheInputException("missing stage name\n" + USAGE);
      }
      stage = args[0];
      i = 1;
    }
    String workdir = null;
    String config = null;
    String master = null;
    String method = null;
    String suite = null;
    boolean overwrite = false;
    boolean resume = false;
    boolean help = false;
    List<String> sets = new ArrayList<>();
    for (; i < args.length; i++) {
      String a = args[i];
      switch (a) {
        case "--workdir" -> workdir = value(args, ++i, a);
        case "--config" -> config = value(args, ++i, a);
        case "--set" -> sets.add(value(args, ++i, a));
        case "--master" -> master = value(args, ++i, a);
        case "--method" -> method = value(args, ++i, a);
        case "--suite" -> suite = value(args, ++i, a);
        case "--overwrite" -> overwrite = true;
        case "--resume" -> resume = true;
        case "--help", "-h" -> help = true;
        default -> {
          if (a.startsWith("--set=")) {
            sets.add(a.substring("--set=".length()));
          } else if (a.startsWith("--workdir=")) {
            workdir = a.substring("--workdir=".length());
          } else {
            throw LetheInputException.of("unknown argument '%s'%n%s", a, USAGE);
          }
        }
      }
    }
    boolean bench = stage.equals(BENCH);
    if (suite != null && !bench) {
      throw LetheInputException.of("--suite is an option of stage %s only, not of %s", BENCH, stage);
    }
    if (resume && !bench) {
      throw LetheInputException.of("--resume is an option of stage %s only, not of %s", BENCH, stage);
    }
    if (resume && overwrite) {
      throw LetheInputException.of("--resume and --overwrite contradict each other: --resume keeps the completed"
          + " runs of ROOT/<suite>/, --overwrite replaces them");
    }
    if (bench) {
      workdir = workdir == null ? BENCH_ROOT : workdir;
      suite = suite == null ? DEFAULT_SUITE : suite;
    }
    if (workdir == null && !help && !stage.equals("demo")) {
      throw LetheInputException.of("stage %s: --workdir is required%n%s", stage, USAGE);
    }
    if (workdir != null && workdir.isBlank()) {
      throw LetheInputException.of("--workdir '%s': empty (an unset variable?); give a directory", workdir);
    }
    if (master != null) {
      master = MasterUrl.check(master, "--master");
    }
    return new StageArgs(stage, workdir, Optional.ofNullable(config), List.copyOf(sets),
        Optional.ofNullable(master), Optional.ofNullable(method), Optional.ofNullable(suite), overwrite, resume, help);
  }

  private static String value(String[] args, int i, String flag) {
    if (i >= args.length || args[i].startsWith("--")) {
      throw LetheInputException.of("%s needs a value%n%s", flag, USAGE);
    }
    return args[i];
  }

  /** A copy naming another stage (the pipeline runs each stage with the pipeline's arguments). */
  public StageArgs withStage(String other) {
    return new StageArgs(other, workdir, configFile, overrides, master, method, suite, overwrite, resume, help);
  }

  /** A copy with another workdir and overwrite flag (the demo picks its own). */
  public StageArgs withWorkdir(String dir, boolean overwriteOutputs) {
    return new StageArgs(stage, dir, configFile, overrides, master, method, suite, overwriteOutputs, false, help);
  }
}
