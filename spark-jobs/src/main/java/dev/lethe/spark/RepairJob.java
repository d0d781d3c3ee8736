package dev.lethe.spark;

import com.typesafe.config.ConfigFactory;
import dev.lethe.LetheInputException;
import dev.lethe.config.LetheConfig;
import dev.lethe.data.Corruption;
import dev.lethe.data.ExampleSet;
import dev.lethe.math.DiagonalFisher;
import dev.lethe.math.Lissa;
import dev.lethe.math.NetworkBytes;
import dev.lethe.spark.cli.Console;
import dev.lethe.spark.exec.TaskThreads;
import dev.lethe.spark.io.ExampleTables;
import dev.lethe.spark.io.FisherFiles;
import dev.lethe.spark.io.Json;
import dev.lethe.spark.io.ModelFiles;
import dev.lethe.spark.io.Provenance;
import dev.lethe.spark.io.Workdir;
import dev.lethe.spark.io.WorkdirLayout;
import dev.lethe.repair.Align;
import dev.lethe.repair.EwcDeletion;
import dev.lethe.repair.Finetune;
import dev.lethe.repair.NewtonRemoval;
import dev.lethe.repair.Knobs;
import dev.lethe.repair.OperatingPoint;
import dev.lethe.repair.OperatingPointSearch;
import dev.lethe.repair.PathRecorder.SettingOutcome;
import dev.lethe.repair.PumaPatching;
import dev.lethe.repair.RepairEvaluation.Accuracies;
import dev.lethe.repair.RepairEvaluation.Guardrail;
import dev.lethe.repair.RepairEvaluation.Sets;
import dev.lethe.repair.RepairReport;
import dev.lethe.repair.Selection;
import dev.lethe.repair.RepairInputs;
import dev.lethe.repair.RepairMethod;
import dev.lethe.repair.RepairMethods;
import dev.lethe.repair.RepairOptions;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stage {@code repair}: erases the culprits C from theta_hat with a repair and searches its knobs for an operating
 * point that fixes the failures Fq while keeping accuracy on the benchmark cases B (Tanno et al. 2022, Sections 2,
 * 4 and 5; PUMA's patching under a drop limit; {@code repair.method} or {@code --method}).
 *
 * <p>Reads rankings/&lt;repair.ranking&gt;.parquet (default: the table of {@code identify.method}), checks that it
 * ranks exactly the training examples of data/train.parquet and was computed with model/base.zip, and selects C
 * by {@code repair.selection} ({@link Selection}). Every setting of the repair's grid runs as a Spark task that
 * follows the setting's path ({@link RepairSearch}); {@link OperatingPointSearch} chooses among all their points by
 * Fq and B alone, within {@code repair.max-benchmark-drop} ({@link Guardrail}). Fh and the T\F holdout are measured
 * for the report only.
 *
 * <p>Output: the directory repair/&lt;method&gt;/, published as one unit, with report.json ({@link RepairReport})
 * and the model: model.zip when a point within the guardrail was found (or nothing was to be repaired),
 * model-rejected.zip with the closest point when none was (the console then prints a WARNING). A rejected
 * repair is still a completed stage: exit code 0. Provenance: repair/&lt;method&gt;.provenance.json.
 */
public final class RepairJob implements StageJob {
  private static final Logger LOG = LoggerFactory.getLogger(RepairJob.class);
  private static final Pattern TABLE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

  public static void main(String[] args) {
    StageRunner.main(Stage.REPAIR, args);
  }

  /**
   * The validated settings of one repair; built before any input is read, so a bad value stops the stage (and
   * the pipeline) before any work.
   */
  record Plan(RepairMethod method, Selection selection, RepairOptions options, Guardrail guardrail,
      String rankingMethod, boolean distributed, int averagingFrequency, int numClasses, int nd4jThreads,
      int taskThreads) {

    static Plan of(LetheConfig c) {
      RepairMethod method = RepairMethods.byName(c.getString("repair.method"));
      Selection selection = Selection.from(c);
      RepairOptions options = RepairOptions.from(c);
      Guardrail guardrail = Guardrail.from(c);
      String ranking = c.getString("repair.ranking").trim();
      if (ranking.isEmpty()) {
        ranking = c.getString("identify.method").trim();
      }
      if (!TABLE_NAME.matcher(ranking).matches()) {
        throw LetheInputException.of("config key 'repair.ranking': '%s' is not a table name (rankings/<name>.parquet;"
            + " letters, digits, '.', '_', '-')", ranking);
      }
      selection.requireFits(ranking);
      boolean distributed = c.getBoolean("repair.finetune.distributed");
      int averaging = c.positiveInt("train.averaging-frequency");
      return new Plan(method, selection, options, guardrail, ranking, distributed, averaging,
          c.positiveInt("data.num-classes"), c.nonNegativeInt("repair.nd4j-threads"),
          c.nonNegativeInt("spark.nd4j-task-threads"));
    }

    String rankingTable() {
      return WorkdirLayout.ranking(rankingMethod);
    }

    /** Whether the repair needs fisher/diag.bin. */
    boolean needsFisher() {
      boolean diagonalCurvature = RepairOptions.Newton.DIAGONAL.equals(options.newton().curvature());
      return method.name().equals(EwcDeletion.NAME)
          || (method.name().equals(NewtonRemoval.NAME) || method.name().equals(PumaPatching.NAME))
          && diagonalCurvature;
    }

    boolean runsDistributed() {
      return distributed && method.name().equals(Finetune.NAME);
    }
  }

  @Override
  public void validate(LetheConfig c, Configuration hadoop) {
    Plan.of(c);
  }

  /** The ranking the repair selects from, the training data, the base model and every failures table. */
  @Override
  public List<Input> inputs(LetheConfig c) {
    Plan plan = Plan.of(c);
    List<Input> in = StageJob.withBaseModel(c, new Input(plan.rankingTable(), "identify --method "
        + plan.rankingMethod()), new Input(WorkdirLayout.TRAIN, "prepare"));
    WorkdirLayout.FAILURES.forEach(f -> in.add(new Input(f, "failures")));
    return in;
  }

  @Override
  public List<String> outputs(LetheConfig c) {
    return List.of(WorkdirLayout.repairDir(RepairMethods.byName(c.getString("repair.method")).name()));
  }

  @Override
  public void run(JobContext ctx) {
    long start = System.nanoTime();
    Plan plan = Plan.of(ctx.config());
    Workdir wd = ctx.workdir();
    String name = plan.method().name();
    String out = WorkdirLayout.repairDir(name);
    String rankingRel = plan.rankingTable();
    ModelFiles.Base baseModel = ModelFiles.base(wd, ctx.config());
    MultiLayerNetwork base = baseModel.net();
    String fingerprint = NetworkBytes.fingerprint(base);
    requireSameModel(wd, rankingRel, baseModel, fingerprint, "identify --method " + plan.rankingMethod());
    for (String f : WorkdirLayout.FAILURES) {
      requireSameModel(wd, f, baseModel, fingerprint, "failures");
    }
    int numFeatures = ModelFiles.numInputs(base);
    DiagonalFisher fisher = plan.needsFisher() ? FisherFiles.read(wd, base, fingerprint) : null;

    ctx.describe("read the training set, the culprits and the test sets");
    String trainPath = wd.path(WorkdirLayout.TRAIN).toString();
    ExampleTables.Table trainTable = ExampleTables.readTable(ctx.spark(), trainPath, ExampleTables.DATA,
        WorkdirLayout.TRAIN);
    String rankingPath = wd.path(rankingRel).toString();
    ExampleTables.Table rankingTable = ExampleTables.readTable(ctx.spark(), rankingPath, ExampleTables.RANKING,
        rankingRel);
    Ranking ranking = Ranking.read(rankingTable, trainTable, rankingPath, trainPath, plan.rankingMethod());
    ExampleSet train = ExampleTables.collect(trainTable.rows(), true, numFeatures, plan.numClasses(), trainPath);
    Sets sets = new Sets(failures(ctx, WorkdirLayout.QUERY, numFeatures, plan.numClasses()),
        failures(ctx, WorkdirLayout.BENCHMARK, numFeatures, plan.numClasses()),
        failures(ctx, WorkdirLayout.HOLDOUT, numFeatures, plan.numClasses()),
        failures(ctx, WorkdirLayout.CORRECT_HOLDOUT, numFeatures, plan.numClasses()));
    if (sets.query().size() == 0) {
      throw LetheInputException.of("%s is empty: theta_hat has no failures in the query set, nothing to repair",
          wd.path(WorkdirLayout.QUERY));
    }
    if (sets.benchmark().size() == 0) {
      throw LetheInputException.of("%s is empty: the guardrail needs benchmark cases B (rerun `lethe failures"
          + " --overwrite` with failures.benchmark-fraction in (0, 1), or give failures.benchmark-table)",
          wd.path(WorkdirLayout.BENCHMARK));
    }

    long[] selectedIds;
    try {
      selectedIds = plan.selection().select(ranking.ids(), ranking.scores());
    } catch (IllegalArgumentException e) {
      throw new LetheInputException(rankingPath + ": " + e.getMessage(), e);
    }
    ExampleSet culprits = train.select(rowsOf(train, selectedIds));
    double readSeconds = (System.nanoTime() - start) / 1e9;
    LOG.info("repair {}: selected {} of {} training examples from {} ({}); read in {} s", name,
        culprits.size(), train.size(), rankingRel, describe(plan.selection()),
        String.format(Locale.ROOT, "%.1f", readSeconds));

    ctx.describe("evaluate theta_hat on Fq, B, Fh and the T\\F holdout");
    long tEval = System.nanoTime();
    Accuracies before = Accuracies.of(base, sets);
    double evalSeconds = (System.nanoTime() - tEval) / 1e9;
    if (before.query() > 0 || before.holdout() > 0 || before.correctHoldout() < 1) {
      LOG.warn("repair {}: theta_hat does not reproduce the failure split (accuracy Fq {}, Fh {}, T\\F {}); the"
          + " failure tables may be stale", name, before.query(), before.holdout(), before.correctHoldout());
    }

    RepairMethod method = plan.runsDistributed()
        ? new Finetune((net, data, o, listener) -> DistributedTraining.fit(ctx, net, data, o,
            plan.averagingFrequency(), listener), "dl4j-spark parameter averaging") : plan.method();
    RepairInputs unprepared = new RepairInputs(base, fisher, train, culprits, sets.query(), sets.benchmark(),
        plan.options(), ctx.seed());
    long tSearch = System.nanoTime();
    RepairInputs in;
    List<SettingOutcome> outcomes;
    TaskThreads.Setting driverThreads = TaskThreads.current();
    try {
      TaskThreads.limit(plan.nd4jThreads());
      // once per run, on the driver: what every setting shares (align's alignment and its energy model)
      ctx.describe(name + ": prepare the inputs every setting shares");
      RepairInputs prepared = method.prepare(unprepared);
      in = prepared;
      List<Knobs> grid = method.grid(prepared);
      ctx.describe(name + " on " + culprits.size() + " culprits: " + grid.size() + " settings");
      outcomes = Lissa.divergenceIsBadConfig("repair.newton-removal.lissa.scale", () -> plan.runsDistributed()
          ? RepairSearch.onDriver(method, prepared, sets, before, plan.guardrail(), grid)
          : RepairSearch.inTasks(ctx, method, prepared, sets, before, plan.guardrail(), grid, plan.taskThreads()));
    } finally {
      TaskThreads.restore(driverThreads);
    }
    double searchSeconds = (System.nanoTime() - tSearch) / 1e9;
    OperatingPointSearch.Result result = OperatingPointSearch.merge(outcomes, before, plan.guardrail());
    MultiLayerNetwork repaired = result.params() == null ? in.copyOfModel()
        : in.modelWithParams(NetworkBytes.params(result.params()));
    OperatingPoint chosen = result.choice().map(OperatingPointSearch.Choice::point).orElse(null);
    boolean accepted = result.choice().map(OperatingPointSearch.Choice::accepted).orElse(false);
    String status = chosen == null ? RepairReport.UNCHANGED : accepted ? RepairReport.ACCEPTED : RepairReport.REJECTED;
    String modelFile = RepairReport.REJECTED.equals(status) ? WorkdirLayout.REJECTED_MODEL : WorkdirLayout.REPAIRED_MODEL;
    // the chosen point was measured on these very parameters in its task
    Accuracies after = chosen == null ? before : chosen.accuracies();
    double totalSeconds = (System.nanoTime() - start) / 1e9;

    int corruptedInTrain = corrupted(train);
    RepairReport report = new RepairReport(name, status, modelFile, NetworkBytes.fingerprint(repaired), fingerprint,
        plan.rankingMethod(), rankingRel,
        new RepairReport.SelectionSummary(plan.selection().policy().configName(), plan.selection().k(),
            plan.selection().fraction(), culprits.size(), train.size(), ranking.positive()),
        corruptedInTrain > 0 ? new RepairReport.CorruptionSummary(corruptedInTrain, corrupted(culprits)) : null,
        new RepairReport.Sizes(sets.query().size(), sets.benchmark().size(), sets.holdout().size(),
            sets.correctHoldout().size(), sets.testSize()),
        before, after, plan.guardrail().maxBenchmarkDropPoints(), chosen, result.frontier(),
        hyperparameters(ctx.config(), name), ctx.seed(), plan.runsDistributed(),
        new RepairReport.Seconds(readSeconds, searchSeconds, evalSeconds, totalSeconds),
        Align.NAME.equals(name) ? in.alignment().changes(corruptedInTrain > 0) : null);

    try (Workdir.Staging staging = wd.stage("repair-" + name)) {
      staging.writeInto(out, modelFile, ModelFiles.toBytes(repaired));
      staging.writeInto(out, WorkdirLayout.REPAIR_REPORT, Json.render(report.toMap()));
      Provenance prov = ctx.provenance("repair").input(wd, rankingRel).input(wd, WorkdirLayout.TRAIN);
      for (String f : WorkdirLayout.FAILURES) {
        prov.input(wd, f);
      }
      prov.input(wd, baseModel.path(), fingerprint);
      if (fisher != null) {
        prov.input(wd, wd.path(WorkdirLayout.FISHER_DIAG), fisher.modelFingerprint());
      }
      staging.writeProvenance(out, prov.put("method", name).put("status", status).put("model", modelFile)
          .put("selection_size", culprits.size()).put("seconds", totalSeconds).toJson());
      staging.commit();
    }
    RepairConsole.print(ctx.console(), report, wd.path(out).toString(), describe(plan.selection()));
  }

  /** An input computed with another model than the base model is stale: bad input naming it. */
  private static void requireSameModel(Workdir wd, String rel, ModelFiles.Base base, String fingerprint,
      String producer) {
    Optional<String> recorded = Provenance.recordedFingerprint(wd, rel, base.name());
    if (recorded.isPresent() && !recorded.get().equals(fingerprint)) {
      throw LetheInputException.of("%s was computed with another model (%s %s, the current one is %s): rerun"
          + " `lethe %s --overwrite`", wd.path(rel), base.name(), recorded.get(), fingerprint, producer);
    }
    if (recorded.isEmpty()) {
      LOG.warn("{}: no recorded model fingerprint; cannot check that it belongs to {}", wd.path(rel),
          base.name());
    }
  }

  private static ExampleSet failures(JobContext ctx, String rel, int numFeatures, int numClasses) {
    String path = ctx.workdir().path(rel).toString();
    return ExampleTables.readCollected(ctx.spark(), path, ExampleTables.FAILURES, rel, true, numFeatures, numClasses,
        path);
  }

  /**
   * The ranking table in rank order (id and score), checked against the training table: exactly one row per
   * training example.
   */
  record Ranking(long[] ids, double[] scores, long positive) {
    /** {@code rankingTable} and {@code trainTable} from {@link ExampleTables#readTable}: their ids are unique. */
    static Ranking read(ExampleTables.Table rankingTable, ExampleTables.Table trainTable, String rankingPath,
        String trainPath, String method) {
      String rerun = "rerun `lethe identify --method " + method + " --overwrite`";
      Dataset<Row> ranked = rankingTable.rows();
      Dataset<Row> train = trainTable.rows();
      long n = trainTable.count();
      long m = rankingTable.count();
      if (m != n) {
        throw LetheInputException.of("%s: %d rows, but the training table %s has %d: a ranking table has exactly"
            + " one row per training example (%s)", rankingPath, m, trainPath, n, rerun);
      }
      Dataset<Row> unknown = ranked.select("id").except(train.select("id"));
      List<Row> first = unknown.limit(1).collectAsList();
      if (!first.isEmpty()) {
        throw LetheInputException.of("%s: %d ids are not in the training table %s (for example id %d): it ranks"
            + " other data (%s)", rankingPath, unknown.count(), trainPath, first.get(0).getLong(0), rerun);
      }
      List<Row> rows = ranked.select("id", "score").orderBy(ranked.col("rank"), ranked.col("id"))
          .collectAsList();
      long[] ids = new long[rows.size()];
      double[] scores = new double[rows.size()];
      long positive = 0;
      for (int i = 0; i < ids.length; i++) {
        Row r = rows.get(i);
        ids[i] = r.getLong(0);
        if (r.isNullAt(1)) {
          throw LetheInputException.of("%s: id %d has no score (%s)", rankingPath, ids[i], rerun);
        }
        scores[i] = r.getDouble(1);
        if (scores[i] > 0) {
          positive++;
        }
      }
      return new Ranking(ids, scores, positive);
    }
  }

  /** The rows of {@code train} holding {@code ids} (all present), in training order. */
  static int[] rowsOf(ExampleSet train, long[] ids) {
    Map<Long, Integer> pos = new HashMap<>(train.size() * 2);
    for (int i = 0; i < train.size(); i++) {
      pos.put(train.id(i), i);
    }
    int[] rows = new int[ids.length];
    for (int i = 0; i < ids.length; i++) {
      Integer r = pos.get(ids[i]);
      if (r == null) {
        throw new IllegalStateException("culprit id " + ids[i] + " is not in the training set");
      }
      rows[i] = r;
    }
    Arrays.sort(rows);
    return rows;
  }

  private static int corrupted(ExampleSet s) {
    int k = 0;
    for (Corruption c : s.corruptions()) {
      if (c != Corruption.NONE) {
        k++;
      }
    }
    return k;
  }

  /** The selection in words: "r(z) > 0", "top 100", "top 15%". */
  static String describe(Selection s) {
    return switch (s.policy()) {
      case POSITIVE -> "r(z) > 0";
      case NEGATIVE -> "value < 0";
      case TOP_K -> "top " + s.k();
      case TOP_FRACTION -> "top " + Console.plain(100 * s.fraction()) + "%";
    };
  }

  /** The configuration section of a method's hyperparameters, as in the effective configuration. */
  static Map<String, Object> hyperparameters(LetheConfig c, String method) {
    String section = switch (method) {
      case EwcDeletion.NAME -> "repair.ewc-deletion";
      case NewtonRemoval.NAME -> "repair.newton-removal";
      case PumaPatching.NAME -> "repair.puma";
      case Align.NAME -> "repair.align";
      default -> "repair.finetune";
    };
    Map<String, Object> h = new LinkedHashMap<>();
    h.put("section", section);
    h.putAll(ConfigFactory.parseString(c.toJson()).getConfig(section).root().unwrapped());
    return h;
  }
}
