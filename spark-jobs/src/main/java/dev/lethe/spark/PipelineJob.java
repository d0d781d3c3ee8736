package dev.lethe.spark;

import java.util.List;

/**
 * Stages {@code pipeline} and {@code demo}: every stage in order in one Spark session, stopping at the first
 * failure. {@code demo} is the pipeline on the bundled Fashion-MNIST subset with the {@code conf/demo.conf} layer
 * (chosen by {@link StageRunner}).
 */
public final class PipelineJob {
  /** The stages the pipeline runs, in order. */
  public static final List<Stage> STAGES = List.of(Stage.PREPARE, Stage.TRAIN, Stage.FAILURES, Stage.FISHER,
      Stage.IDENTIFY);

  private PipelineJob() {}

  public static void main(String[] args) {
    StageRunner.main("pipeline", args);
  }

  static void run(JobContext ctx) throws Exception {
    long start = System.nanoTime();
    StringBuilder timings = new StringBuilder();
    for (Stage s : STAGES) {
      long t0 = System.nanoTime();
      ctx.console().line("== %s", s.cliName());
      s.body().run(ctx.forStage(s.cliName()));
      timings.append(String.format(java.util.Locale.ROOT, "%s %.1f s, ", s.cliName(), (System.nanoTime() - t0) / 1e9));
    }
    ctx.console().line("%s done in %.1f s (%s) -> %s", ctx.args().stage(), (System.nanoTime() - start) / 1e9,
        timings.substring(0, timings.length() - 2), ctx.workdir().root());
  }
}
