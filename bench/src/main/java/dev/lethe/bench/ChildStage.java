package dev.lethe.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Runs one stage in a fresh JVM (the same java binary, JVM options and class path as this one), so that its wall
 * time and peak memory are its own and its Spark master can differ from this JVM's ({@code local[1]} against
 * {@code local[2]}). The child's output goes to a log file; its last line {@code lethe <stage>: finished in S s;
 * peak memory: resident R MB, JVM heap H MB} gives the figures.
 */
final class ChildStage {
  private static final Pattern FINISHED = Pattern.compile(
      "lethe (\\S+): finished in ([0-9.]+) s; peak memory: (?:resident (\\d+) MB, )?JVM heap (\\d+) MB");

  private ChildStage() {}

  /**
   * What a child run measured.
   *
   * @param seconds the stage's own wall time (as the stage reports it, without JVM start-up)
   * @param residentMb the child's resident set high-water mark, or -1 when the platform does not report it
   * @param heapMb the child's heap pools' peak
   * @param log the child's output
   */
  record Result(double seconds, long residentMb, long heapMb, Path log) {}

  /**
   * Runs {@code stage} on {@code workdir} with {@code master} and the {@code --set} overrides; the output goes to
   * {@code log}. A failed stage throws, naming the log.
   */
  static Result run(String stage, Path workdir, String master, List<String> sets, Path log, boolean overwrite)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(ProcessHandle.current().info().command().orElse(
        Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      // a GC log file or debugger port of this JVM must not be shared with the child
      if (!a.startsWith("-Xlog") && !a.startsWith("-agentlib") && !a.startsWith("-javaagent")) {
        cmd.add(a);
      }
    }
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.lethe.spark.LetheMain"));
    cmd.addAll(args(stage, workdir, sets));
    cmd.addAll(List.of("--master", master));
    if (overwrite) {
      cmd.add("--overwrite");
    }
    Files.createDirectories(log.getParent());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    int code = p.waitFor();
    String out = Files.readString(log, StandardCharsets.UTF_8);
    Matcher m = FINISHED.matcher(out);
    Result r = null;
    while (m.find()) {
      if (m.group(1).equals(stage)) {
        r = new Result(Double.parseDouble(m.group(2)), m.group(3) == null ? -1 : Long.parseLong(m.group(3)),
            Long.parseLong(m.group(4)), log);
      }
    }
    if (code != 0 || r == null) {
      throw new IllegalStateException("bench: stage " + stage + " on " + workdir + " failed with exit code " + code
          + "; its output is in " + log);
    }
    return r;
  }

  /** The stage's command-line arguments: {@code <stage> --workdir DIR} and a {@code --set} per override. */
  static List<String> args(String stage, Path workdir, List<String> sets) {
    List<String> args = new ArrayList<>(List.of(stage, "--workdir", workdir.toString()));
    for (String s : sets) {
      args.add("--set");
      args.add(s);
    }
    return args;
  }
}
