package dev.lethe.spark;

import dev.lethe.LetheInputException;
import dev.lethe.config.LetheConfig;
import dev.lethe.influence.EwcInfluence;
import dev.lethe.influence.InfluenceMethods;
import dev.lethe.spark.io.ModelFiles;
import dev.lethe.treatment.TreatmentMethods;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;

/**
 * Stages {@code pipeline} and {@code demo}: every stage in order in one Spark session, stopping at the first
 * failure. {@code demo} is the pipeline on the bundled Fashion-MNIST subset with the {@code conf/demo.conf} layer
 * (chosen by {@link StageRunner}).
 *
 * <p>The repair stage runs once per method of {@code pipeline.repair-methods} (in order; an empty list means
 * {@code repair.method} alone), each with {@code repair.method} set to it; the settings of every method are
 * validated before the first stage. The identify stage runs {@code identify.method} and then every other method of
 * {@code pipeline.identify-methods}. The last stage, {@code report}, prints the summary table of the repairs.
 */
public final class PipelineJob {
  /** The stages the pipeline runs, in order. */
  public static final List<Stage> STAGES = List.of(Stage.PREPARE, Stage.TRAIN, Stage.FAILURES, Stage.FISHER,
      Stage.IDENTIFY, Stage.REPAIR, Stage.REPORT);
  static final String REPAIR_METHODS = "pipeline.repair-methods";
  static final String IDENTIFY_METHODS = "pipeline.identify-methods";

  private PipelineJob() {}

  public static void main(String[] args) {
    StageRunner.main("pipeline", args);
  }

  /** The treatment methods the repair stage runs: {@code pipeline.repair-methods}, or {@code repair.method}. */
  static List<String> repairMethods(LetheConfig c) {
    List<String> given = c.getStringList(REPAIR_METHODS);
    if (given.isEmpty()) {
      return List.of(c.getString("repair.method").trim());
    }
    List<String> methods = new ArrayList<>(new LinkedHashSet<>(given.stream().map(String::trim).toList()));
    if (methods.size() != given.size()) {
      throw LetheInputException.of("config key '%s': a method is listed twice in %s", REPAIR_METHODS, given);
    }
    for (String m : methods) {
      try {
        TreatmentMethods.byName(m);
      } catch (LetheInputException e) {
        throw new LetheInputException("config key '" + REPAIR_METHODS + "': " + e.getMessage(), e);
      }
    }
    return methods;
  }

  /**
   * The identification methods the identify stage runs: {@code identify.method} first (repair reads its table by
   * default), then the other methods of {@code pipeline.identify-methods}, each once.
   */
  static List<String> identifyMethods(LetheConfig c) {
    LinkedHashSet<String> methods = new LinkedHashSet<>();
    methods.add(c.getString("identify.method").trim());
    for (String m : c.getStringList(IDENTIFY_METHODS)) {
      try {
        methods.add(InfluenceMethods.byName(m.trim()).name());
      } catch (LetheInputException e) {
        throw new LetheInputException("config key '" + IDENTIFY_METHODS + "': " + e.getMessage(), e);
      }
    }
    return new ArrayList<>(methods);
  }

  /**
   * Checks every stage's settings (each identify and repair method's), that the files prepare reads exist and that
   * no stage's output exists unless --overwrite was given, before the first stage: a bad setting of a later stage
   * must stop the run before anything is computed or published.
   */
  static void validate(JobContext ctx, List<String> identify, List<String> repair) {
    LetheConfig c = ctx.config();
    PrepareJob.validate(c, ctx.spark().sparkContext().hadoopConfiguration());
    ModelFiles.validate(c);
    boolean train = !ModelFiles.fromFile(c);
    if (train) {
      TrainJob.validate(c);
    }
    FailuresJob.validate(c);
    FisherJob.validate(c);
    List<String> outputs = new ArrayList<>(List.of(PrepareJob.TRAIN, PrepareJob.TEST,
        FailuresJob.QUERY, FailuresJob.HOLDOUT, FailuresJob.BENCHMARK, FailuresJob.REMAINING, FisherJob.DIAG,
        FisherJob.LOGP,
        ReportJob.DIR));
    if (train) {
      outputs.add(ModelFiles.BASE);
    }
    for (String m : identify) {
      IdentifyJob.validate(c.withString("identify.method", m));
      outputs.add(IdentifyJob.culprits(m));
      if (m.equals(EwcInfluence.NAME)) {
        outputs.add(ModelFiles.EWC_UPDATED);
      }
    }
    for (String m : repair) {
      RepairJob.validate(c.withString("repair.method", m));
      outputs.add(RepairJob.dir(m));
    }
    ctx.workdir().requireWritable(outputs);
  }

  static void run(JobContext ctx) throws Exception {
    List<String> identify = identifyMethods(ctx.config());
    List<String> methods = repairMethods(ctx.config());
    validate(ctx, identify, methods);
    long start = System.nanoTime();
    StringBuilder timings = new StringBuilder();
    for (Stage s : STAGES) {
      if (s == Stage.TRAIN && ModelFiles.fromFile(ctx.config())) {
        ctx.console().line("== %s: skipped (model.source = file: %s)", s.cliName(),
            ctx.config().getString("model.path"));
        continue;
      }
      long t0 = System.nanoTime();
      if (s == Stage.IDENTIFY && identify.size() > 1) {
        for (String m : identify) {
          ctx.console().line("== %s %s", s.cliName(), m);
          s.body().run(ctx.forStage(s.cliName()).withConfig(ctx.config().withString("identify.method", m)));
        }
      } else if (s == Stage.REPAIR) {
        for (String m : methods) {
          ctx.console().line("== %s %s", s.cliName(), m);
          RepairJob.run(ctx.forStage(s.cliName()).withConfig(ctx.config().withString("repair.method", m)));
        }
      } else {
        ctx.console().line("== %s", s.cliName());
        s.body().run(ctx.forStage(s.cliName()));
      }
      timings.append(String.format(Locale.ROOT, "%s %.1f s, ", s.cliName(), (System.nanoTime() - t0) / 1e9));
    }
    ctx.console().line("%s done in %.1f s (%s) -> %s", ctx.args().stage(), (System.nanoTime() - start) / 1e9,
        timings.substring(0, timings.length() - 2), ctx.workdir().root());
  }
}
