package dev.lethe.spark;

import com.typesafe.config.ConfigFactory;
import dev.lethe.LetheInputException;
import dev.lethe.math.Lissa;
import dev.lethe.config.LetheConfig;
import dev.lethe.data.Corruption;
import dev.lethe.data.ExampleSet;
import dev.lethe.math.DiagonalFisher;
import dev.lethe.math.NetworkBytes;
import dev.lethe.spark.cli.Console;
import dev.lethe.spark.exec.TaskThreads;
import dev.lethe.spark.io.ExampleTables;
import dev.lethe.spark.io.Json;
import dev.lethe.spark.io.ModelFiles;
import dev.lethe.spark.io.Provenance;
import dev.lethe.spark.io.Workdir;
import dev.lethe.treatment.EwcDeletion;
import dev.lethe.treatment.Finetune;
import dev.lethe.treatment.NewtonRemoval;
import dev.lethe.treatment.RepairEvaluation.Accuracies;
import dev.lethe.treatment.RepairEvaluation.Guardrail;
import dev.lethe.treatment.Selection;
import dev.lethe.treatment.Treated;
import dev.lethe.treatment.TreatmentInputs;
import dev.lethe.treatment.TreatmentMethod;
import dev.lethe.treatment.TreatmentMethods;
import dev.lethe.treatment.TreatmentOptions;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stage {@code repair}: erases the culprits C from theta_hat with a treatment method and judges the result
 * (Tanno et al. 2022, Section 4 and 5; {@code repair.method} or {@code --method}).
 *
 * <p>Reads culprits/&lt;repair.culprits&gt;.parquet (default: the table of {@code identify.method}), checks that it
 * ranks exactly the training examples of data/train.parquet and was computed with model/base.zip, and selects C
 * by {@code repair.selection} ({@link Selection}: r(z) &gt; 0, top-k or top fraction). The treatment runs on the
 * driver ({@code finetune} optionally across executors with dl4j-spark parameter averaging,
 * {@code repair.finetune.distributed}). Accuracy on Fq, Fh, T\F and the whole test set before and after
 * ({@link Accuracies}), and the guardrail on the T\F drop ({@code repair.max-remaining-drop}, {@link Guardrail}).
 *
 * <p>Output: the directory repair/&lt;method&gt;/, published as one unit (replacing an earlier run's whole
 * directory under {@code --overwrite}), with report.json and the repaired model: {@value #MODEL} when the
 * guardrail accepted it, {@value #MODEL_REJECTED} when it rejected it (the report then says
 * {@code "status": "rejected"}, and the console says so in a WARNING line and in the summary line). A rejected
 * repair is still a completed stage: exit code 0. Provenance: repair/&lt;method&gt;.provenance.json.
 */
public final class RepairJob {
  private static final Logger LOG = LoggerFactory.getLogger(RepairJob.class);
  public static final String REPORT = "report.json";
  /** The repaired model when the guardrail accepted it (or the treatment left theta_hat unchanged). */
  public static final String MODEL = "model.zip";
  /** The repaired model when the guardrail rejected it: named so that nobody deploys it by accident. */
  public static final String MODEL_REJECTED = "model-rejected.zip";
  public static final String ACCEPTED = "accepted";
  public static final String REJECTED = "rejected";
  /** The treatment returned theta_hat (empty C, or early stopping kept epoch 0): nothing was repaired. */
  public static final String UNCHANGED = "unchanged";
  private static final Pattern TABLE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");

  private RepairJob() {}

  public static void main(String[] args) {
    StageRunner.main("repair", args);
  }

  /** The output directory of a method. */
  public static String dir(String method) {
    return "repair/" + method;
  }

  /**
   * The validated settings of one repair; built before any input is read, so a bad value stops the stage (and
   * the pipeline) before any work.
   */
  record Plan(TreatmentMethod method, Selection selection, TreatmentOptions options, Guardrail guardrail,
      String culpritsMethod, boolean distributed, int averagingFrequency, int numClasses, int nd4jThreads) {

    static Plan of(LetheConfig c) {
      TreatmentMethod method = TreatmentMethods.byName(c.getString("repair.method"));
      Selection selection = Selection.from(c);
      TreatmentOptions options = TreatmentOptions.from(c);
      Guardrail guardrail = Guardrail.from(c);
      String culprits = c.getString("repair.culprits").trim();
      if (culprits.isEmpty()) {
        culprits = c.getString("identify.method").trim();
      }
      if (!TABLE_NAME.matcher(culprits).matches()) {
        throw LetheInputException.of("config key 'repair.culprits': '%s' is not a table name (culprits/<name>.parquet;"
            + " letters, digits, '.', '_', '-')", culprits);
      }
      boolean distributed = c.getBoolean("repair.finetune.distributed");
      int averaging = c.positiveInt("train.averaging-frequency");
      return new Plan(method, selection, options, guardrail, culprits, distributed, averaging,
          c.positiveInt("data.num-classes"), c.nonNegativeInt("repair.nd4j-threads"));
    }

    String culpritsTable() {
      return IdentifyJob.culprits(culpritsMethod);
    }

    /** Whether the treatment needs fisher/diag.bin. */
    boolean needsFisher() {
      return method.name().equals(EwcDeletion.NAME) || method.name().equals(NewtonRemoval.NAME)
          && TreatmentOptions.Newton.DIAGONAL.equals(options.newton().curvature());
    }

    boolean runsDistributed() {
      return distributed && method.name().equals(Finetune.NAME);
    }
  }

  /** Checks the repair settings without running anything (the pipeline calls it before its first stage). */
  static void validate(LetheConfig c) {
    Plan.of(c);
  }

  static void run(JobContext ctx) {
    long start = System.nanoTime();
    Plan plan = Plan.of(ctx.config());
    Workdir wd = ctx.workdir();
    String name = plan.method().name();
    String out = dir(name);
    wd.requireWritable(List.of(out));
    String culpritsRel = plan.culpritsTable();
    wd.requireInput(culpritsRel, "identify --method " + plan.culpritsMethod());
    wd.requireInput(PrepareJob.TRAIN, "prepare");
    for (String f : List.of(FailuresJob.QUERY, FailuresJob.HOLDOUT, FailuresJob.REMAINING)) {
      wd.requireInput(f, "failures");
    }
    MultiLayerNetwork base = ModelFiles.load(wd, ModelFiles.BASE, "train");
    String fingerprint = NetworkBytes.fingerprint(base);
    requireSameModel(wd, culpritsRel, fingerprint, "identify --method " + plan.culpritsMethod());
    requireSameModel(wd, FailuresJob.QUERY, fingerprint, "failures");
    int numFeatures = ModelFiles.numInputs(base);
    DiagonalFisher fisher = plan.needsFisher() ? FisherJob.read(wd, base, fingerprint) : null;

    ctx.describe("read the training set, the culprits and the failure sets");
    String trainPath = wd.path(PrepareJob.TRAIN).toString();
    ExampleTables.Table trainTable = ExampleTables.readTable(ctx.spark(), trainPath, ExampleTables.DATA,
        PrepareJob.TRAIN);
    Dataset<Row> trainDf = trainTable.rows();
    String culpritsPath = wd.path(culpritsRel).toString();
    ExampleTables.Table culpritsTable = ExampleTables.readTable(ctx.spark(), culpritsPath, ExampleTables.CULPRITS,
        culpritsRel);
    Ranking ranking = Ranking.read(culpritsTable, trainTable, culpritsPath, trainPath, plan.culpritsMethod());
    ExampleSet train = ExampleTables.collect(trainDf, true, numFeatures, plan.numClasses(), trainPath);
    ExampleSet query = failures(ctx, FailuresJob.QUERY, numFeatures, plan.numClasses());
    ExampleSet holdout = failures(ctx, FailuresJob.HOLDOUT, numFeatures, plan.numClasses());
    ExampleSet remaining = failures(ctx, FailuresJob.REMAINING, numFeatures, plan.numClasses());

    long[] selectedIds;
    try {
      selectedIds = plan.selection().select(ranking.ids(), ranking.scores());
    } catch (IllegalArgumentException e) {
      throw new LetheInputException(culpritsPath + ": " + e.getMessage(), e);
    }
    ExampleSet culprits = train.select(rowsOf(train, selectedIds));
    int corruptedInTrain = corrupted(train);
    int corruptedInSelection = corrupted(culprits);
    double readSeconds = (System.nanoTime() - start) / 1e9;
    LOG.info("repair {}: selected {} of {} training examples from {} ({}); read in {} s", name,
        culprits.size(), train.size(), culpritsRel, describe(plan.selection()),
        String.format(Locale.ROOT, "%.1f", readSeconds));
    if (culprits.size() == 0) {
      LOG.warn("repair {}: the selection is empty ({} of {}): the erasing treatments leave theta_hat unchanged",
          name, plan.selection().policy().configName(), culpritsRel);
    }

    ctx.describe("evaluate theta_hat on Fq, Fh and T\\F");
    long tEval = System.nanoTime();
    Accuracies before = Accuracies.of(base, query, holdout, remaining);
    double evalSeconds = (System.nanoTime() - tEval) / 1e9;
    if (before.query() > 0 || before.holdout() > 0 || before.remaining() < 1) {
      LOG.warn("repair {}: theta_hat does not reproduce the failure split (accuracy Fq {}, Fh {}, T\\F {}); the"
          + " failure tables may be stale", name, before.query(), before.holdout(), before.remaining());
    }

    ctx.describe(name + " on " + culprits.size() + " culprits" + (plan.runsDistributed() ? " (distributed)" : ""));
    TreatmentMethod method = plan.runsDistributed()
        ? new Finetune((net, data, o) -> DistributedTraining.fit(ctx, net, data, o, plan.averagingFrequency()),
            "dl4j-spark parameter averaging") : plan.method();
    TaskThreads.Setting driverThreads = TaskThreads.current();
    Treated treated;
    try {
      TaskThreads.limit(plan.nd4jThreads());
      TreatmentInputs in = new TreatmentInputs(base, fisher, train, culprits, query, plan.options(), ctx.seed());
      treated = Lissa.divergenceIsBadConfig("repair.newton-removal.lissa.scale", () -> method.apply(in));
    } finally {
      TaskThreads.restore(driverThreads);
    }

    ctx.describe("evaluate the repaired model on Fq, Fh and T\\F");
    tEval = System.nanoTime();
    Accuracies after = Accuracies.of(treated.model(), query, holdout, remaining);
    evalSeconds += (System.nanoTime() - tEval) / 1e9;
    double drop = Guardrail.dropPoints(before, after);
    boolean rejected = plan.guardrail().rejects(before, after);
    boolean unchanged = treated.noOp() || Boolean.TRUE.equals(treated.diagnostics().get("keptThetaHat"));
    String status = rejected ? REJECTED : unchanged ? UNCHANGED : ACCEPTED;
    String modelFile = rejected ? MODEL_REJECTED : MODEL;
    double totalSeconds = (System.nanoTime() - start) / 1e9;

    Map<String, Object> report = new LinkedHashMap<>();
    report.put("method", name);
    report.put("status", status);
    report.put("model", modelFile);
    report.put("model_fingerprint", NetworkBytes.fingerprint(treated.model()));
    report.put("base_model_fingerprint", fingerprint);
    report.put("culprits", Map.of("method", plan.culpritsMethod(), "table", culpritsRel));
    Map<String, Object> sel = new LinkedHashMap<>();
    sel.put("policy", plan.selection().policy().configName());
    sel.put("top_k", plan.selection().k());
    sel.put("top_fraction", plan.selection().fraction());
    sel.put("size", culprits.size());
    sel.put("train_size", train.size());
    sel.put("positive_scores", ranking.positive());
    report.put("selection", sel);
    if (corruptedInTrain > 0) {
      Map<String, Object> corr = new LinkedHashMap<>();
      corr.put("in_train", corruptedInTrain);
      corr.put("in_selection", corruptedInSelection);
      corr.put("precision", culprits.size() == 0 ? Double.NaN : (double) corruptedInSelection / culprits.size());
      corr.put("recall", (double) corruptedInSelection / corruptedInTrain);
      report.put("corruption", corr);
    } else {
      report.put("corruption", null);
    }
    report.put("hyperparameters", hyperparameters(ctx.config(), name));
    report.put("distributed", plan.runsDistributed());
    report.put("seed", ctx.seed());
    report.put("sizes", Map.of("query", query.size(), "holdout", holdout.size(), "remaining", remaining.size(),
        "test", query.size() + holdout.size() + remaining.size()));
    report.put("before", accuracies(before));
    report.put("after", accuracies(after));
    report.put("remaining_drop_points", drop);
    Map<String, Object> guard = new LinkedHashMap<>();
    guard.put("max_remaining_drop_points", plan.guardrail().maxRemainingDropPoints());
    guard.put("verdict", rejected ? REJECTED : ACCEPTED);
    report.put("guardrail", guard);
    Map<String, Object> seconds = new LinkedHashMap<>();
    seconds.put("read", readSeconds);
    seconds.put("treatment", treated.millis() / 1000.0);
    seconds.put("evaluation", evalSeconds);
    seconds.put("total", totalSeconds);
    report.put("seconds", seconds);
    report.put("diagnostics", treated.diagnostics());

    try (Workdir.Staging staging = wd.stage("repair-" + name)) {
      staging.writeInto(out, modelFile, ModelFiles.toBytes(treated.model()));
      staging.writeInto(out, REPORT, Json.render(report));
      Provenance prov = ctx.provenance("repair").input(wd, culpritsRel).input(wd, PrepareJob.TRAIN)
          .input(wd, FailuresJob.QUERY).input(wd, FailuresJob.HOLDOUT).input(wd, FailuresJob.REMAINING)
          .input(wd, wd.path(ModelFiles.BASE), fingerprint);
      if (fisher != null) {
        prov.input(wd, wd.path(FisherJob.DIAG), fisher.modelFingerprint());
      }
      staging.writeProvenance(out, prov.put("method", name).put("status", status).put("model", modelFile)
          .put("selection_size", culprits.size()).put("seconds", totalSeconds).toJson());
      staging.commit();
    }

    String where = wd.path(out).toString();
    if (rejected) {
      LOG.warn("repair {}: REJECTED by the guardrail: T\\F accuracy dropped {} points (limit {})", name,
          String.format(Locale.ROOT, "%.2f", drop), plan.guardrail().maxRemainingDropPoints());
      ctx.console().line("repair: WARNING: %s REJECTED by the guardrail: accuracy on T\\F dropped %.2f points"
          + " (%.2f%% -> %.2f%%), more than repair.max-remaining-drop = %s; the model is written as %s/%s, not %s",
          name, drop, 100 * before.remaining(), 100 * after.remaining(),
          plan.guardrail().maxRemainingDropPoints(), where, MODEL_REJECTED, MODEL);
    }
    if (unchanged) {
      ctx.console().line("repair: WARNING: %s left theta_hat unchanged (%s)", name,
          treated.noOp() ? treated.diagnostics().get("reason") : "no epoch improved the early-stopping criterion");
    }
    String corruption = corruptedInTrain > 0
        ? String.format(Locale.ROOT, ", %d of them corrupted (of %d in D)", corruptedInSelection, corruptedInTrain)
        : "";
    ctx.console().line("repair: %s on %d culprits (%s of %s%s): Fq %s, Fh %s, T\\F %s (%+.2f points), test %s;"
        + " %s; treatment %.1f s, total %.1f s -> %s/%s", name, culprits.size(), describe(plan.selection()),
        culpritsRel, corruption,
        change(before.query(), after.query()), change(before.holdout(), after.holdout()),
        change(before.remaining(), after.remaining()), -drop, change(before.test(), after.test()),
        status.toUpperCase(Locale.ROOT), treated.millis() / 1000.0, totalSeconds, where, modelFile);
  }

  /** An input computed with another model than model/base.zip is stale: bad input naming it. */
  private static void requireSameModel(Workdir wd, String rel, String fingerprint, String producer) {
    Optional<String> recorded = Provenance.recordedFingerprint(wd, rel, ModelFiles.BASE);
    if (recorded.isPresent() && !recorded.get().equals(fingerprint)) {
      throw LetheInputException.of("%s was computed with another model (%s %s, the current one is %s): rerun"
          + " `lethe %s --overwrite`", wd.path(rel), ModelFiles.BASE, recorded.get(), fingerprint, producer);
    }
    if (recorded.isEmpty()) {
      LOG.warn("{}: no recorded model fingerprint; cannot check that it belongs to {}", wd.path(rel),
          ModelFiles.BASE);
    }
  }

  private static ExampleSet failures(JobContext ctx, String rel, int numFeatures, int numClasses) {
    String path = ctx.workdir().path(rel).toString();
    return ExampleTables.readCollected(ctx.spark(), path, ExampleTables.FAILURES, rel, true, numFeatures, numClasses,
        path);
  }

  /**
   * The culprits table in rank order (id and score), checked against the training table: exactly one row per
   * training example.
   */
  record Ranking(long[] ids, double[] scores, long positive) {
    /** {@code culpritsTable} and {@code trainTable} from {@link ExampleTables#readTable}: their ids are unique. */
    static Ranking read(ExampleTables.Table culpritsTable, ExampleTables.Table trainTable, String culpritsPath,
        String trainPath, String method) {
      String rerun = "rerun `lethe identify --method " + method + " --overwrite`";
      Dataset<Row> culprits = culpritsTable.rows();
      Dataset<Row> train = trainTable.rows();
      long n = trainTable.count();
      long m = culpritsTable.count();
      if (m != n) {
        throw LetheInputException.of("%s: %d rows, but the training table %s has %d: a culprits table has exactly"
            + " one row per training example (%s)", culpritsPath, m, trainPath, n, rerun);
      }
      Dataset<Row> unknown = culprits.select("id").except(train.select("id"));
      List<Row> first = unknown.limit(1).collectAsList();
      if (!first.isEmpty()) {
        throw LetheInputException.of("%s: %d ids are not in the training table %s (for example id %d): it ranks"
            + " other data (%s)", culpritsPath, unknown.count(), trainPath, first.get(0).getLong(0), rerun);
      }
      List<Row> rows = culprits.select("id", "score").orderBy(culprits.col("rank"), culprits.col("id"))
          .collectAsList();
      long[] ids = new long[rows.size()];
      double[] scores = new double[rows.size()];
      long positive = 0;
      for (int i = 0; i < ids.length; i++) {
        Row r = rows.get(i);
        ids[i] = r.getLong(0);
        if (r.isNullAt(1)) {
          throw LetheInputException.of("%s: id %d has no score (%s)", culpritsPath, ids[i], rerun);
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
      case TOP_K -> "top " + s.k();
      case TOP_FRACTION -> "top " + Console.plain(100 * s.fraction()) + "%";
    };
  }

  /** The configuration section of a method's hyperparameters, as in the effective configuration. */
  static Map<String, Object> hyperparameters(LetheConfig c, String method) {
    String section = switch (method) {
      case EwcDeletion.NAME -> "repair.ewc-deletion";
      case NewtonRemoval.NAME -> "repair.newton-removal";
      default -> "repair.finetune";
    };
    Map<String, Object> h = new LinkedHashMap<>();
    h.put("section", section);
    h.putAll(ConfigFactory.parseString(c.toJson()).getConfig(section).root().unwrapped());
    return h;
  }

  private static Map<String, Object> accuracies(Accuracies a) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("query", a.query());
    m.put("holdout", a.holdout());
    m.put("remaining", a.remaining());
    m.put("test", a.test());
    return m;
  }

  private static String change(double before, double after) {
    return percent(before) + " -> " + percent(after);
  }

  static String percent(double v) {
    return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.1f%%", 100 * v);
  }
}
