package dev.lethe.spark;

import dev.lethe.LetheInputException;
import dev.lethe.config.LetheConfig;
import java.util.Arrays;
import java.util.stream.Collectors;

/** The pipeline's stages, in order, each bound to the job that runs it. */
public enum Stage {
  PREPARE("prepare", new PrepareJob()),
  TRAIN("train", new TrainJob()),
  FAILURES("failures", new FailuresJob()),
  FISHER("fisher", new FisherJob()),
  IDENTIFY("identify", new IdentifyJob()),
  REPAIR("repair", new RepairJob()),
  REPORT("report", new ReportJob()),
  PIPELINE("pipeline", new PipelineJob()),
  DEMO("demo", new PipelineJob()),
  BENCH("bench", new BenchStage());

  private final String cliName;
  private final StageJob job;

  Stage(String cliName, StageJob job) {
    this.cliName = cliName;
    this.job = job;
  }

  public String cliName() {
    return cliName;
  }

  public StageJob job() {
    return job;
  }

  /**
   * Runs the stage in {@code ctx}: checks its settings, that its outputs may be written and that its inputs exist,
   * then does its work.
   */
  public void run(JobContext ctx) throws Exception {
    LetheConfig c = ctx.config();
    job.validate(c, ctx.spark().sparkContext().hadoopConfiguration());
    ctx.workdir().requireWritable(job.outputs(c));
    for (StageJob.Input in : job.inputs(c)) {
      ctx.workdir().requireInput(in.path(), in.producer());
    }
    job.run(ctx);
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
