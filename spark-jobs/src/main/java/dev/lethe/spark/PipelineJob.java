package dev.lethe.spark;

import dev.lethe.LetheInputException;
import dev.lethe.config.LetheConfig;
import dev.lethe.influence.InfluenceMethods;
import dev.lethe.repair.RepairMethods;
import dev.lethe.spark.io.ModelFiles;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;

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
public final class PipelineJob implements StageJob {
  /** The stages the pipeline runs, in order. */
  public static final List<Stage> STAGES = List.of(Stage.PREPARE, Stage.TRAIN, Stage.FAILURES, Stage.FISHER,
      Stage.IDENTIFY, Stage.REPAIR, Stage.REPORT);
  static final String REPAIR_METHODS = "pipeline.repair-methods";
  static final String IDENTIFY_METHODS = "pipeline.identify-methods";

  public static void main(String[] args) {
    StageRunner.main(Stage.PIPELINE, args);
  }

  /** The repair methods the repair stage runs: {@code pipeline.repair-methods}, or {@code repair.method}. */
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
        RepairMethods.byName(m);
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
        methods.add(InfluenceMethods.requireKnown(m));
      } catch (LetheInputException e) {
        throw new LetheInputException("config key '" + IDENTIFY_METHODS + "': " + e.getMessage(), e);
      }
    }
    return new ArrayList<>(methods);
  }

  /**
   * The settings each run of stage {@code s} gets: one per method for identify ({@code identify.method} first) and
   * repair, {@code c} itself for the other stages.
   */
  static List<LetheConfig> runsOf(Stage s, LetheConfig c) {
    return switch (s) {
      case TRAIN -> ModelFiles.fromFile(c) ? List.of() : List.of(c);
      case IDENTIFY -> identifyMethods(c).stream().map(m -> c.withString("identify.method", m)).toList();
      case REPAIR -> repairMethods(c).stream().map(m -> c.withString("repair.method", m)).toList();
      default -> List.of(c);
    };
  }

  /**
   * Checks every stage's settings (each identify and repair method's) and that the files prepare reads exist, before
   * the first stage: a bad setting of a later stage must stop the run before anything is computed or published.
   */
  @Override
  public void validate(LetheConfig c, Configuration hadoop) {
    ModelFiles.validate(c);
    for (Stage s : STAGES) {
      for (LetheConfig run : runsOf(s, c)) {
        s.job().validate(run, hadoop);
      }
    }
    String tracing = String.join(", ", identifyMethods(c).stream().filter(MethodArtefacts::usesCheckpoints).toList());
    if (!tracing.isEmpty() && (c.nonNegativeInt("train.checkpoints") == 0 || c.getBoolean("train.distributed")
        || ModelFiles.fromFile(c))) {
      throw LetheInputException.of("config key 'train.checkpoints': %s need the training checkpoints, but this"
          + " pipeline's train keeps none (train.checkpoints = 0, train.distributed = true or model.source = file)",
          tracing);
    }
  }

  /** The pipeline starts from the user's data: prepare checks its files when it validates. */
  @Override
  public List<Input> inputs(LetheConfig c) {
    return List.of();
  }

  /** Every stage's outputs: none may exist unless --overwrite was given. */
  @Override
  public List<String> outputs(LetheConfig c) {
    List<String> outputs = new ArrayList<>();
    for (Stage s : STAGES) {
      for (LetheConfig run : runsOf(s, c)) {
        outputs.addAll(s.job().outputs(run));
      }
    }
    return outputs;
  }

  @Override
  public void run(JobContext ctx) throws Exception {
    long start = System.nanoTime();
    StringBuilder timings = new StringBuilder();
    for (Stage s : STAGES) {
      if (s == Stage.TRAIN && ModelFiles.fromFile(ctx.config())) {
        ctx.console().line("== %s: skipped (model.source = file: %s)", s.cliName(),
            ctx.config().getString("model.path"));
        continue;
      }
      long t0 = System.nanoTime();
      List<LetheConfig> runs = runsOf(s, ctx.config());
      for (LetheConfig run : runs) {
        if (s == Stage.IDENTIFY && runs.size() > 1) {
          ctx.console().line("== %s %s", s.cliName(), run.getString("identify.method").trim());
        } else if (s == Stage.REPAIR) {
          ctx.console().line("== %s %s", s.cliName(), run.getString("repair.method").trim());
        } else {
          ctx.console().line("== %s", s.cliName());
        }
        s.run(ctx.forStage(s.cliName()).withConfig(run));
      }
      timings.append(String.format(Locale.ROOT, "%s %.1f s, ", s.cliName(), (System.nanoTime() - t0) / 1e9));
    }
    ctx.console().line("%s done in %.1f s (%s) -> %s", ctx.args().stage(), (System.nanoTime() - start) / 1e9,
        timings.substring(0, timings.length() - 2), ctx.workdir().root());
  }
}
