package dev.lethe.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A real Spark standalone cluster on this machine: a master and one worker (org.apache.spark.deploy.master.Master
 * and org.apache.spark.deploy.worker.Worker from spark-core, each its own JVM, bound to 127.0.0.1), and the
 * shaded application jar submitted to it by the deploy scripts deploy/spark-submit/STAGE.sh (client deploy mode),
 * one application per stage with the stage main classes (PrepareJob ... IdentifyJob); their spark-submit is a
 * shim running org.apache.spark.deploy.SparkSubmit the way Spark's script does. The
 * ranking table must equal the one of a local run of the same config (the in-process local[2] fixture of
 * {@link SmallWorkdir}): same ids and ranks, scores within 1e-9 relative.
 *
 * <p>The worker launches executors the way a real installation does, from {@code $SPARK_HOME/jars}: the test
 * builds a SPARK_HOME whose jars/ holds links to the provided (Spark) classpath of spark-jobs plus the few jars a
 * Spark distribution also ships but spark-jobs declares at compile scope (so Maven leaves them out of the provided
 * list and the shade plugin puts them in the application jar): {@link #SPARK_ALSO_NEEDS}. Master, worker, driver
 * and executors all run from that directory, as spark-class does.
 */
class StandaloneClusterTest {
  private static final Duration READY = Duration.ofSeconds(60);
  private static final Duration STAGE = Duration.ofSeconds(180);
  private static final List<String> STAGES = List.of("prepare", "train", "failures", "fisher", "identify");

  /** Classes whose jars a Spark 3.5 distribution has in jars/ but the provided classpath lacks. */
  private static final List<String> SPARK_ALSO_NEEDS = List.of("org.slf4j.Logger",
      "org.apache.commons.lang3.StringUtils", "org.apache.commons.math3.util.FastMath",
      "org.apache.commons.io.FileUtils", "org.apache.commons.compress.utils.IOUtils",
      "org.apache.commons.codec.binary.Hex", "org.apache.commons.collections.CollectionUtils",
      "com.clearspring.analytics.stream.cardinality.HyperLogLogPlus", "org.objenesis.Objenesis");

  private static Path repo;
  private static Path dir;
  private static Path sparkHome;
  private static Path workerDir;
  private static String provided;
  private static String sparkClasspath;
  private static List<String> opens;
  private static String masterUrl;
  private static Process master;
  private static Process worker;
  private static Path masterLog;
  private static Path workerLog;

  @BeforeAll
  static void startCluster() throws Exception {
    repo = Path.of(System.getProperty("lethe.repo.root"));
    provided = Files.readString(repo.resolve("spark-jobs/target/provided-classpath.txt")).trim();
    opens = new ArrayList<>(List.of(System.getProperty("lethe.jvm.opens", "").split(" ")));
    opens.removeIf(String::isBlank);
    assertThat(opens).as("lethe.jvm.opens (set by the tests module's surefire config)").isNotEmpty();
    dir = SmallWorkdir.newDir("standalone");
    sparkHome = Files.createDirectories(dir.resolve("spark-home"));
    Path jars = Files.createDirectories(sparkHome.resolve("jars"));
    List<Path> sparkJars = new ArrayList<>();
    for (String jar : provided.split(":")) {
      sparkJars.add(Path.of(jar));
    }
    for (String cls : SPARK_ALSO_NEEDS) {
      sparkJars.add(Path.of(Class.forName(cls, false, StandaloneClusterTest.class.getClassLoader())
          .getProtectionDomain().getCodeSource().getLocation().toURI()));
    }
    for (Path p : sparkJars) {
      Path link = jars.resolve(p.getFileName());
      if (!Files.exists(link)) {
        Files.createSymbolicLink(link, p);
      }
    }
    sparkClasspath = jars + "/*";
    writeSparkSubmit();
    workerDir = Files.createDirectories(dir.resolve("worker-work"));

    int masterPort = freePort();
    masterUrl = "spark://127.0.0.1:" + masterPort;
    masterLog = dir.resolve("master.log");
    master = start(List.of("-Xmx256m", "-cp", sparkClasspath, "org.apache.spark.deploy.master.Master",
        "--host", "127.0.0.1", "--port", String.valueOf(masterPort), "--webui-port", String.valueOf(freePort())),
        masterLog);
    awaitLog(master, masterLog, "I have been elected leader! New state: ALIVE", "master");

    workerLog = dir.resolve("worker.log");
    worker = start(List.of("-Xmx256m", "-cp", sparkClasspath, "org.apache.spark.deploy.worker.Worker",
        "--host", "127.0.0.1", "--port", String.valueOf(freePort()), "--webui-port", String.valueOf(freePort()),
        "--cores", "3", "--memory", "4g", "--work-dir", workerDir.toString(), masterUrl), workerLog);
    awaitLog(worker, workerLog, "Successfully registered with master", "worker");
  }

  @AfterAll
  static void stopCluster() {
    for (Process p : new Process[] {worker, master}) {
      if (p != null) {
        // executors are the worker's children: end them first, then the daemon itself
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        try {
          p.waitFor(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
    // keep the logs, drop the application jar the worker copied for every application and driver (160 MB each)
    if (workerDir != null) {
      try (Stream<Path> s = Files.walk(workerDir)) {
        s.filter(f -> f.getFileName().toString().endsWith(".jar")).forEach(SmallWorkdir::delete);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void stagesSubmittedToAStandaloneClusterGiveTheLocalRunsCulprits() throws Exception {
    Path work = dir.resolve("workdir");
    List<Path> before = appDirs();
    List<String> submitted = new ArrayList<>();
    for (String stage : STAGES) {
      long t0 = System.nanoTime();
      String out = submit(stage, work);
      System.err.printf("standalone: %s took %.1f s%n", stage, (System.nanoTime() - t0) / 1e9);
      submitted.add(out);
    }
    assertThat(submitted.get(4)).contains("identify: ewc-influence scored 200 training examples");

    // Every stage was its own application, whose executor ran tasks on the worker.
    List<Path> apps = new ArrayList<>(appDirs());
    apps.removeAll(before);
    assertThat(apps).as("application directories in the worker's work dir %s", workerDir).hasSize(STAGES.size());
    for (Path app : apps) {
      String stderr = executorStderr(app);
      assertThat(stderr).as("executor log of %s", app).contains("Successfully registered with driver")
          .contains("Running task")
          // the script's executor options, and the JDK 17 flags Spark adds to executors itself
          .contains("-Dorg.bytedeco.javacpp.maxbytes=1G")
          .contains("--add-opens=java.base/sun.nio.ch=ALL-UNNAMED");
    }

    // The local reference: the same settings, prepare..fisher in the in-process local[2] fixture, then identify.
    Path local = SmallWorkdir.copy("standalone-local");
    SharedSpark.Run ref = SmallWorkdir.run("identify", local, "--method", "ewc-influence");
    assertThat(ref.code()).as(ref.err()).isZero();

    List<Row> expected = culprits(local);
    List<Row> actual = culprits(work);
    assertThat(actual).hasSize(200);
    assertThat(expected).hasSize(200);
    double worst = 0;
    for (int i = 0; i < expected.size(); i++) {
      Row e = expected.get(i);
      Row a = actual.get(i);
      assertThat(a.getLong(0)).as("id at rank %d", i + 1).isEqualTo(e.getLong(0));
      assertThat(a.getLong(2)).isEqualTo(e.getLong(2));
      double rel = Math.abs(a.getDouble(1) - e.getDouble(1)) / Math.max(Math.abs(e.getDouble(1)), 1e-300);
      assertThat(rel).as("relative score difference of id %d (%s vs %s)", e.getLong(0), a.getDouble(1),
          e.getDouble(1)).isLessThanOrEqualTo(1e-9);
      worst = Math.max(worst, rel);
    }
    System.err.printf("standalone: culprits equal the local run's, largest relative score difference %.3g%n", worst);
  }

  /**
   * Standalone cluster deploy mode: the worker launches the driver (DriverWrapper) itself, without the JDK 17
   * flags spark-submit would add, so they must come from the script's spark.driver.extraJavaOptions. Spark 3.5's
   * spark-submit exits 0 here even when the driver fails, so success is judged from the driver's log and output.
   */
  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void prepareRunsInStandaloneClusterDeployMode() throws Exception {
    Path work = dir.resolve("workdir-cluster-mode");
    List<Path> before = driverDirs();
    Path log = run("prepare", work, "cluster", List.of());
    List<Path> drivers = new ArrayList<>(driverDirs());
    drivers.removeAll(before);
    assertThat(drivers).as("driver directories in %s\n%s", workerDir, tail(log)).hasSize(1);
    String driverLog = executorStderr(drivers.get(0));
    assertThat(driverLog).as("driver log").contains("lethe prepare finished").doesNotContain("IllegalAccessError")
        // the worker's launch command: the script's driver options
        .contains("-Dorg.bytedeco.javacpp.maxbytes=1G");
    assertThat(Files.readString(log)).contains("is FINISHED");
    assertThat(work.resolve("data/train.parquet/_SUCCESS")).exists();
    assertThat(work.resolve("data/test.parquet/_SUCCESS")).exists();
  }

  private static List<Path> appDirs() throws IOException {
    return workerEntries("app-");
  }

  private static List<Path> driverDirs() throws IOException {
    return workerEntries("driver-");
  }

  private static List<Path> workerEntries(String prefix) throws IOException {
    try (Stream<Path> s = Files.list(workerDir)) {
      return s.filter(p -> p.getFileName().toString().startsWith(prefix)).sorted().toList();
    }
  }

  /**
   * Submits one stage with its deploy script, deploy/spark-submit/STAGE.sh (client deploy mode), whose
   * spark-submit is the shim of {@link #writeSparkSubmit}; returns the application's stdout.
   */
  private static String submit(String stage, Path work) throws IOException, InterruptedException {
    Path log = run(stage, work, "client", List.of());
    String driverLog = Files.readString(log);
    assertThat(driverLog).as("driver log of %s", stage).contains("Submitted application: lethe-" + stage)
        .contains("Connected to Spark cluster").contains("Executor added");
    return Files.readString(dir.resolve("submit-" + stage + "-client.out"));
  }

  /** Runs deploy/spark-submit/STAGE.sh in {@code mode}, asserts exit code 0 and returns spark-submit's log. */
  private static Path run(String stage, Path work, String mode, List<String> extra)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("bash", repo.resolve("deploy/spark-submit/" + stage + ".sh").toString()));
    cmd.addAll(List.of(SmallWorkdir.args(work)));
    cmd.addAll(extra);
    Path log = dir.resolve("submit-" + stage + "-" + mode + ".log");
    Path out = dir.resolve("submit-" + stage + "-" + mode + ".out");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(log.toFile()).redirectOutput(out.toFile());
    Map<String, String> env = pb.environment();
    sparkEnv(env);
    env.put("MASTER", masterUrl);
    env.put("DEPLOY_MODE", mode);
    env.put("LETHE_JAR", System.getProperty("lethe.app.jar"));
    // sized for this one-worker cluster (the defaults ask for 4 cores and 4g executors)
    env.put("DRIVER_MEMORY", "1g");
    env.put("DRIVER_CORES", mode.equals("client") ? "2" : "1");
    env.put("EXECUTOR_MEMORY", "1g");
    env.put("EXECUTOR_CORES", "2");
    env.put("ND4J_MAXBYTES", "1G");
    env.put("ND4J_MAXPHYSICALBYTES", "3G");
    env.put("DRIVER_ND4J_MAXBYTES", "1G");
    env.put("DRIVER_ND4J_MAXPHYSICALBYTES", "3G");
    env.put("LETHE_SPARK_SUBMIT_ARGS", "--conf spark.ui.enabled=false --conf spark.cores.max=2");
    Process p = pb.start();
    if (!p.waitFor(STAGE.toSeconds(), TimeUnit.SECONDS)) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      fail("stage %s did not finish on the cluster within %s\n%s", stage, STAGE, tail(log));
    }
    assertThat(p.exitValue()).as("exit code of stage %s on the cluster\n%s\nworker log:\n%s", stage, tail(log),
        tail(workerLog)).isZero();
    return log;
  }

  /**
   * $SPARK_HOME/bin/spark-submit: what Spark's own script ends up running (spark-class builds this command with
   * the JDK 17 --add-opens list and jars/*). In client mode the launcher gives the driver JVM the heap of
   * --driver-memory and the options of spark.driver.extraJavaOptions, and so does the shim.
   */
  private static void writeSparkSubmit() throws IOException {
    Path bin = Files.createDirectories(sparkHome.resolve("bin"));
    Path script = bin.resolve("spark-submit");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Files.writeString(script, String.join("\n", "#!/usr/bin/env bash",
        "# test shim for Spark's bin/spark-submit (StandaloneClusterTest)",
        "heap=-Xmx1g",
        "driver=()",
        "args=(\"$@\")",
        "for ((i = 0; i < ${#args[@]}; i++)); do",
        "  if [[ \"${args[i]}\" == --driver-memory ]]; then heap=\"-Xmx${args[i+1]}\"; fi",
        "  if [[ \"${args[i]}\" == --conf && \"${args[i+1]}\" == spark.driver.extraJavaOptions=* ]]; then",
        "    read -r -a driver <<< \"${args[i+1]#spark.driver.extraJavaOptions=}\"",
        "  fi",
        "  if [[ \"${args[i]}\" == --deploy-mode && \"${args[i+1]}\" == cluster ]]; then cluster=1; fi",
        "done",
        "if [[ -n \"${cluster:-}\" ]]; then driver=(); fi",
        "exec '" + java + "' " + String.join(" ", opens) + " \"${driver[@]}\" \"$heap\" -cp '" + sparkClasspath
            + "' org.apache.spark.deploy.SparkSubmit \"$@\"",
        ""));
    assertThat(script.toFile().setExecutable(true)).isTrue();
  }

  private static Process start(List<String> args, Path log) throws IOException {
    return start(args, log, log);
  }

  private static Process start(List<String> args, Path err, Path out) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    cmd.addAll(opens);
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(err.toFile());
    if (out.equals(err)) {
      pb.redirectErrorStream(true).redirectOutput(out.toFile());
    } else {
      pb.redirectOutput(out.toFile());
    }
    sparkEnv(pb.environment());
    return pb.start();
  }

  private static void sparkEnv(Map<String, String> env) {
    env.put("SPARK_LOCAL_IP", "127.0.0.1");
    env.put("SPARK_HOME", sparkHome.toString());
    env.put("SPARK_SCALA_VERSION", "2.12");
    env.put("SPARK_CONF_DIR", sparkHome.resolve("conf").toString());
    env.remove("SPARK_SUBMIT");
    env.remove("MASTER");
  }

  private static void awaitLog(Process p, Path log, String line, String what) throws Exception {
    long deadline = System.nanoTime() + READY.toNanos();
    while (System.nanoTime() < deadline) {
      if (!p.isAlive()) {
        fail("the %s exited with code %d before it was ready\n%s", what, p.exitValue(), tail(log));
      }
      if (Files.exists(log) && Files.readString(log, StandardCharsets.UTF_8).contains(line)) {
        return;
      }
      Thread.sleep(200);
    }
    fail("the %s did not log '%s' within %s\n%s", what, line, READY, tail(log));
  }

  private static String executorStderr(Path app) throws IOException {
    StringBuilder all = new StringBuilder();
    try (Stream<Path> s = Files.walk(app)) {
      for (Path p : s.filter(f -> f.getFileName().toString().equals("stderr")).toList()) {
        all.append(Files.readString(p));
      }
    }
    return all.toString();
  }

  private static List<Row> culprits(Path work) {
    Path table = work.resolve("rankings/ewc-influence.parquet");
    assertThat(table.resolve("_SUCCESS")).exists();
    return SharedSpark.session().read().parquet(table.toString()).orderBy("rank").collectAsList();
  }

  private static String tail(Path log) {
    try {
      if (!Files.exists(log)) {
        return "(no log " + log + ")";
      }
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      return s.getLocalPort();
    }
  }
}
