package dev.lethe.spark;

import dev.lethe.LetheInputException;
import dev.lethe.config.LetheConfig;
import dev.lethe.influence.InfluenceMethods;
import dev.lethe.spark.cli.Console;
import dev.lethe.spark.cli.MasterUrl;
import dev.lethe.spark.cli.StageArgs;
import dev.lethe.math.backend.ComputeBackend;
import dev.lethe.spark.exec.PeakMemory;
import dev.lethe.spark.exec.TaskThreads;
import dev.lethe.spark.io.Workdir;
import dev.lethe.repair.RepairMethods;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one stage from command-line arguments: parses them, loads the config, gets or creates the Spark session,
 * runs the stage and maps the outcome to an exit code (0 success, 2 bad input/config, 1 internal error).
 *
 * <p>Launcher policy: a master given with {@code --master} is used; otherwise a master set by the launcher
 * ({@code spark-submit}, Databricks) is kept; only when there is none does {@code spark.default-master} apply.
 * A session that already exists (Databricks, tests) is reused and never stopped.
 */
public final class StageRunner {
  private static final Logger LOG = LoggerFactory.getLogger(StageRunner.class);
  public static final String DEMO_WORKDIR = "lethe-demo";
  public static final String DEMO_CONFIG = "lethe-conf/demo.conf";

  private StageRunner() {}

  /** Entry point body for every main class: exits with the stage's code (on Databricks, throws instead). */
  public static void main(Stage fixedStage, String[] args) {
    int code = run(fixedStage == null ? null : fixedStage.cliName(), args, Console.system());
    if (System.getenv("DATABRICKS_RUNTIME_VERSION") != null) {
      // Databricks treats System.exit as a failure and reports thrown exceptions: return or throw.
      if (code != 0) {
        throw new IllegalStateException("lethe failed with exit code " + code + " (see the error above)");
      }
      return;
    }
    if (code == 0 && "cluster".equals(System.getProperty("spark.submit.deployMode"))) {
      // YARN (and Kubernetes) cluster mode run main in a driver thread and report System.exit as a failure.
      return;
    }
    System.exit(code);
  }

  /** Runs a stage and returns its exit code; never exits the JVM. */
  public static int run(String fixedStage, String[] args, Console console) {
    StageArgs a;
    Stage stage;
    try {
      a = StageArgs.parse(fixedStage, args);
      if (a.help()) {
        console.line("%s", StageArgs.USAGE);
        return 0;
      }
      stage = Stage.byName(a.stage());
    } catch (LetheInputException e) {
      console.error("lethe: error: %s", e.getMessage());
      return 2;
    }
    boolean existing = SparkSession.getDefaultSession().isDefined() || SparkSession.getActiveSession().isDefined();
    SparkSession spark = null;
    long start = System.nanoTime();
    try {
      if (stage == Stage.DEMO) {
        a = a.withWorkdir(a.workdir() == null ? DEMO_WORKDIR : a.workdir(), true);
      }
      Configuration hadoopConf = existing ? activeSession().sparkContext().hadoopConfiguration() : new Configuration();
      LetheConfig config = loadConfig(a, stage, hadoopConf);
      if (!existing && stage.initialisesScalaReflection()) {
        warmUpScalaReflection();
      }
      spark = existing ? activeSession() : session(a, config, stage);
      Workdir workdir = Workdir.open(a.workdir(), spark.sparkContext().hadoopConfiguration(), a.overwrite());
      workdir.probeWritable();
      JobContext ctx = new JobContext(spark, config, workdir, a, console);
      TaskThreads.configureCompute(spark.sparkContext(), ComputeBackend.parse(config.oneOf("compute.backend",
          "auto", "dl4j")));
      stage.run(ctx);
      double seconds = (System.nanoTime() - start) / 1e9;
      LOG.info("lethe {} finished in {} s", stage.cliName(), String.format("%.1f", seconds));
      console.line("lethe %s: finished in %.1f s; %s", stage.cliName(), seconds, PeakMemory.describe());
      return 0;
    } catch (Throwable t) {
      LetheInputException bad = inputCause(t);
      if (bad != null) {
        console.error("lethe %s: error: %s", stage.cliName(), bad.getMessage());
        return 2;
      }
      LOG.error("lethe {} failed", stage.cliName(), t);
      console.error("lethe %s: internal error (stack trace in the log above): %s", stage.cliName(), firstLine(t));
      Throwable root = rootCause(t);
      if (root != t) {
        console.error("lethe %s: cause: %s", stage.cliName(), firstLine(root));
      }
      return 1;
    } finally {
      if (spark != null && !existing) {
        spark.stop();
      }
    }
  }

  /**
   * Initialises Spark's Scala reflection on a daemon thread while the session starts, for a stage that will need it
   * ({@link Stage#initialisesScalaReflection}: the code Spark generates to convert rows calls it when compiled). Its
   * first use in a JVM takes about a second of one core, during which the stage would otherwise
   * wait; the session's own start-up is mostly single-threaded. Class initialisation is once per JVM and
   * thread-safe: a stage that reaches it first waits for this thread instead of doing it again. Only for a JVM whose
   * session this runner creates (a shared session's JVM has long paid it).
   */
  static void warmUpScalaReflection() {
    Thread t = new Thread(() -> {
      try {
        Class.forName("org.apache.spark.sql.catalyst.ScalaReflection$", true, StageRunner.class.getClassLoader());
      } catch (ClassNotFoundException | LinkageError e) {
        LOG.debug("Scala reflection warm-up failed (the stage initialises it when it needs it)", e);
      }
    }, "lethe-warm-up");
    t.setDaemon(true);
    t.start();
  }

  private static SparkSession activeSession() {
    return SparkSession.getActiveSession().isDefined() ? SparkSession.getActiveSession().get()
        : SparkSession.getDefaultSession().get();
  }

  static LetheConfig loadConfig(StageArgs a, Stage stage, Configuration hadoopConf) {
    List<LetheConfig.Source> layers = new ArrayList<>();
    if (stage == Stage.DEMO) {
      layers.add(LetheConfig.classpathSource(DEMO_CONFIG));
    }
    a.configFile().ifPresent(f -> layers.add(configFile(f, hadoopConf)));
    if (stage == Stage.BENCH) {
      // fail before a Spark session starts and before anything is written; the message lists the suites
      BenchCommand.load().checkSuite(a.suite().orElse(StageArgs.DEFAULT_SUITE));
    }
    List<String> overrides = new ArrayList<>(a.overrides());
    Optional<String> method = a.method();
    if (method.isPresent()) {
      switch (stage) {
        case IDENTIFY, PIPELINE, DEMO -> {
          // fail before a Spark session starts; the message lists the known methods
          InfluenceMethods.requireKnown(method.get());
          overrides.add("identify.method=" + method.get().trim());
        }
        case REPAIR -> {
          RepairMethods.byName(method.get());
          overrides.add("repair.method=" + method.get().trim());
        }
        default -> throw LetheInputException.of("--method is not an option of stage %s", stage.cliName());
      }
    }
    return LetheConfig.load(layers, overrides);
  }

  /** The config layer of {@code --config FILE} (any Hadoop path). */
  public static LetheConfig.Source configFile(String file, Configuration hadoopConf) {
    return new LetheConfig.Source(file, new String(Workdir.readFile(file, hadoopConf, "--config"),
        StandardCharsets.UTF_8));
  }

  /**
   * Starts the session this runner owns. The master is checked first: its form (a {@code spark.default-master} typo
   * names that key), and for a standalone master that it accepts connections.
   */
  private static SparkSession session(StageArgs a, LetheConfig config, Stage stage) {
    SparkSession.Builder b = SparkSession.builder().appName(config.getString("spark.app-name") + "-" + stage.cliName());
    SparkConf launcher = new SparkConf();
    String master = a.master().orElse(launcher.contains("spark.master") ? null
        : MasterUrl.check(config.getString("spark.default-master"), "config key 'spark.default-master'"));
    MasterUrl.requireReachable(master != null ? master : launcher.get("spark.master"),
        a.master().isPresent() ? "--master" : master != null ? "config key 'spark.default-master'" : "spark.master");
    if (master != null) {
      b.master(master);
      if (master.startsWith("local")) {
        b.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1");
        if (!launcher.contains("spark.ui.enabled")) {
          b.config("spark.ui.enabled", "false");
        }
      }
    }
    try {
      return b.getOrCreate();
    } catch (IllegalArgumentException e) {
      if (String.valueOf(e.getMessage()).contains("--driver-memory")) {
        // Spark's advice names spark-submit's option; bin/lethe sizes the driver's heap with LETHE_DRIVER_MEMORY
        throw new LetheInputException("the driver's heap is too small for Spark: " + firstSentence(e.getMessage())
            + "; raise LETHE_DRIVER_MEMORY for bin/lethe (or spark.driver.memory / --driver-memory for spark-submit)",
            e);
      }
      throw e;
    }
  }

  private static String firstSentence(String s) {
    int end = s.indexOf(". ");
    return end < 0 ? s : s.substring(0, end);
  }

  /** The innermost cause of {@code t}: what the file system, the network or the JVM reported. */
  static Throwable rootCause(Throwable t) {
    Throwable root = t;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root;
  }

  /** {@code t} as {@code Class: message}, cut at the first line break (Spark's job aborts run to many lines). */
  static String firstLine(Throwable t) {
    String s = t.toString();
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl).trim();
  }

  /** The {@link LetheInputException} behind a failure, also when Spark wrapped it in task failures. */
  static LetheInputException inputCause(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof LetheInputException e) {
        return e;
      }
    }
    // Spark's task failure messages carry the executor's exception as text only.
    String msg = t.getMessage();
    String marker = LetheInputException.class.getName() + ": ";
    if (msg != null && msg.contains(marker)) {
      String rest = msg.substring(msg.indexOf(marker) + marker.length());
      int end = rest.indexOf("\n\tat ");
      return new LetheInputException((end > 0 ? rest.substring(0, end) : rest).trim());
    }
    return null;
  }
}
