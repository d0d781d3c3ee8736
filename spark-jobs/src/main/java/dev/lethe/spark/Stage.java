package dev.lethe.spark;

import dev.lethe.LetheInputException;
import java.util.Arrays;
import java.util.stream.Collectors;

/** The pipeline's stages, in order, each bound to the job that runs it. */
public enum Stage {
  PREPARE("prepare", PrepareJob::run),
  TRAIN("train", TrainJob::run),
  FAILURES("failures", FailuresJob::run),
  FISHER("fisher", FisherJob::run),
  IDENTIFY("identify", IdentifyJob::run),
  REPAIR("repair", RepairJob::run),
  REPORT("report", ReportJob::run),
  PIPELINE("pipeline", PipelineJob::run),
  DEMO("demo", PipelineJob::run),
  BENCH("bench", ctx -> BenchCommand.load().run(ctx));

  /** A stage body. */
  @FunctionalInterface
  public interface Body {
    void run(JobContext ctx) throws Exception;
  }

  private final String cliName;
  private final Body body;

  Stage(String cliName, Body body) {
    this.cliName = cliName;
    this.body = body;
  }

  public String cliName() {
    return cliName;
  }

  public Body body() {
    return body;
  }

  /**
   * Whether the stage, run in a fresh JVM, initialises Spark's Scala reflection: Spark's generated conversions of
   * external {@code Row}s (building a table from rows, collecting one) do on their first use. Every stage but
   * {@code fisher} does; {@code fisher} reads Spark's internal rows and writes plain bytes (tested in a fresh JVM by
   * StageJvmTest).
   */
  public boolean initialisesScalaReflection() {
    return this != FISHER;
  }

  public static Stage byName(String name) {
    for (Stage s : values()) {
      if (s.cliName.equals(name)) {
        return s;
      }
    }
    throw LetheInputException.of("unknown stage '%s' (expected one of %s)", name,
        Arrays.stream(values()).map(Stage::cliName).collect(Collectors.joining(", ")));
  }
}
