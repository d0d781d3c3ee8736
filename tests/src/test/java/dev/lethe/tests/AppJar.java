package dev.lethe.tests;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Runs a stage in a separate JVM from the application jar, the way bin/lethe and spark-submit do. */
final class AppJar {
  private AppJar() {}

  /** The outcome of one run: exit status, stdout and stderr (with the log). */
  record Run(int code, String out, String err) {}

  /** Runs {@code dev.lethe.spark.LetheMain} with {@code args} (include --master) and waits for it. */
  static Run run(List<String> args) throws IOException, InterruptedException {
    return run(List.of(), args);
  }

  /** As {@link #run(List)}, with extra options for the JVM. */
  static Run run(List<String> jvmOptions, List<String> args) throws IOException, InterruptedException {
    return run(jvmOptions, false, args);
  }

  /**
   * As {@link #run(List, List)}, with this module's test classes after the application jar on the class path when
   * {@code withTestClasses} (for test-side hooks such as {@link FailFirstAttemptFileSystem}).
   */
  static Run run(List<String> jvmOptions, boolean withTestClasses, List<String> args)
      throws IOException, InterruptedException {
    Path root = Path.of(System.getProperty("lethe.repo.root"));
    Path jar = Path.of(System.getProperty("lethe.app.jar"));
    String provided = Files.readString(root.resolve("spark-jobs/target/provided-classpath.txt")).trim();
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    cmd.addAll(List.of(System.getProperty("lethe.jvm.opens", "").split(" ")));
    cmd.removeIf(String::isBlank);
    cmd.add("-Xmx1g");
    cmd.addAll(jvmOptions);
    String testClasses = withTestClasses ? ":" + Path.of(AppJar.class.getProtectionDomain().getCodeSource()
        .getLocation().getPath()) : "";
    cmd.addAll(List.of("-cp", jar + testClasses + ":" + provided, "dev.lethe.spark.LetheMain"));
    cmd.addAll(args);
    Path out = Files.createTempFile(Path.of(System.getProperty("lethe.test.tmp", System.getProperty("java.io.tmpdir"))),
        "app-jar", ".out");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile());
    pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    Process p = pb.start();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    p.getErrorStream().transferTo(err);
    int code = p.waitFor();
    String stdout = Files.readString(out);
    Files.delete(out);
    return new Run(code, stdout, err.toString(StandardCharsets.UTF_8));
  }
}
