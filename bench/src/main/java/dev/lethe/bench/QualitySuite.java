package dev.lethe.bench;

import com.typesafe.config.ConfigFactory;
import dev.lethe.LetheInputException;
import dev.lethe.config.LetheConfig;
import dev.lethe.influence.EwcInfluence;
import dev.lethe.influence.LinearInfluence;
import dev.lethe.influence.OracleInfluence;
import dev.lethe.influence.PumaInfluence;
import dev.lethe.influence.RandomInfluence;
import dev.lethe.spark.ReportJob;
import dev.lethe.spark.Stage;
import dev.lethe.spark.cli.Console;
import dev.lethe.spark.io.RankingTables;
import dev.lethe.spark.io.Json;
import dev.lethe.spark.io.Workdir;
import dev.lethe.spark.io.WorkdirLayout;
import dev.lethe.influence.IdentificationCurve;
import dev.lethe.spark.report.RepairSummary;
import dev.lethe.repair.Finetune;
import dev.lethe.repair.OperatingPointSearch;
import dev.lethe.repair.RepairEvaluation;
import dev.lethe.repair.RepairReport;
import dev.lethe.repair.RepairMethods;
import dev.lethe.valuation.KnnShapleyInfluence;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The quick and paper suites: the protocol of Tanno et al. 2022 (Fig. 2c, 3, 5 and Table 1) on the bundled
 * Fashion-MNIST subset. For every setting (kind of corruption) and seed, one full pipeline in its own workdir:
 * prepare, train, failures, fisher; identify with every method (ranking quality against the recorded corruption,
 * identification wall time); repair from the EWC-influence ranking with every repair, each searching its
 * operating point, reported at the guardrails of {@link #LIMITS} (the repair trade-off); fine-tuning on D\C after
 * removing the top k for growing k (the fine-tuning sweep); and the scoring roofline.
 */
final class QualitySuite {
  private static final Logger LOG = LoggerFactory.getLogger(QualitySuite.class);
  static final String IDENTIFICATION = "identification";
  static final String REPAIR = "repair";
  static final String FINETUNE_SWEEP = "finetune-sweep";
  static final String TIMING = "timing";
  static final List<String> IDENTIFY_METHODS = List.of(EwcInfluence.NAME, LinearInfluence.CG, LinearInfluence.LISSA,
      RandomInfluence.NAME, OracleInfluence.NAME, dev.lethe.influence.TracInInfluence.TRACIN,
      dev.lethe.influence.TracInInfluence.SELF_INFLUENCE, dev.lethe.influence.LossInfluence.NAME,
      dev.lethe.influence.ConfidentLearning.NAME, PumaInfluence.NAME, KnnShapleyInfluence.NAME,
      dev.lethe.valuation.TmcShapleyInfluence.NAME);
  /**
   * Methods the warm-up leaves out: their fold trainings or permutations take minutes, against which the JVM's one-off
   * class loading and JIT compilation are a negligible share, and a warm-up run would double their cost.
   */
  static final List<String> NOT_WARMED_UP = List.of(dev.lethe.influence.ConfidentLearning.NAME,
      dev.lethe.valuation.TmcShapleyInfluence.NAME);
  /** The ranking the repairs and the fine-tuning sweep use. */
  static final String RANKING = EwcInfluence.NAME;
  /** The paper's protocol size: sweep sizes are given for it and scaled to the actual training-set size. */
  static final int PROTOCOL_ROWS = 3000;
  /** Inspected fractions of the found-vs-inspected curves recorded in results.csv. */
  static final double[] GRID = grid();
  /** The top fractions whose corrupted share summary.md tabulates. */
  static final double[] TOP = {0.01, 0.05, 0.10, 0.20};
  /** The guardrails (points of B accuracy) at which the repair section reports each repair's operating point. */
  static final double[] LIMITS = {1.0, 2.0};
  /** The guardrail each repair's search runs under (the largest of {@link #LIMITS}). */
  static final double SEARCH_LIMIT = 2.0;
  static final String LABEL_FLIP = "label-flip";
  static final String SALT_PEPPER = "salt-pepper";
  static final String FGSM = "fgsm";
  static final String LABEL_FLIP_SYMMETRIC = "label-flip-symmetric";

  /** The kind of corruption a setting injects (null for a setting this suite does not define). */
  static dev.lethe.data.Corruption corruptionOf(String setting) {
    return switch (setting) {
      case LABEL_FLIP, LABEL_FLIP_SYMMETRIC -> dev.lethe.data.Corruption.LABEL_FLIP;
      case SALT_PEPPER -> dev.lethe.data.Corruption.SALT_PEPPER;
      case FGSM -> dev.lethe.data.Corruption.FGSM;
      default -> null;
    };
  }

  /** One kind of corruption: its config layers (under the user's) and why it cannot run, if it cannot. */
  record Setting(String name, List<LetheConfig.Source> layers, String unavailable) {}

  /**
   * What a suite runs.
   *
   * @param settings the settings run, in order
   * @param sweepAtProtocolSize the fine-tuning sweep's k at {@link #PROTOCOL_ROWS} training examples
   * @param repairing the settings whose runs also repair (the repairs, the fine-tuning sweep and the roofline); the
   *     others identify only
   * @param methods the identify methods ranked, in {@link #IDENTIFY_METHODS}' order
   */
  record Plan(List<Setting> settings, List<Integer> sweepAtProtocolSize, List<String> repairing,
      List<String> methods) {
    Plan(List<Setting> settings, List<Integer> sweepAtProtocolSize, List<String> repairing) {
      this(settings, sweepAtProtocolSize, repairing, IDENTIFY_METHODS);
    }
  }

  private final BenchContext ctx;
  private final Plan plan;
  private final Roofline roofline = new Roofline();
  private int failures;
  /** Whether this JVM has run every identify method once (the untimed warm-up of the first run). */
  private boolean warmedUp;

  private QualitySuite(BenchContext ctx, Plan plan) {
    this.ctx = ctx;
    this.plan = plan;
  }

  /** The quick suite: one seed, label flips with the demo's noise and epoch caps (conf/demo.conf). */
  static Plan quick() {
    return new Plan(List.of(new Setting(LABEL_FLIP, List.of(LetheConfig.classpathSource("lethe-conf/demo.conf")),
        null)), List.of(100, 200, 400), List.of(LABEL_FLIP));
  }

  /**
   * The paper suite's settings (see {@link #paper()}); only the settings named in {@code only} when it is not empty,
   * and repairs only in those named in {@code repairing}. An unknown name is bad input naming its key,
   * {@code bench.paper.settings} or {@code bench.paper.repair-settings}.
   */
  static Plan paper(List<String> only, List<String> repairing) {
    return paper(only, repairing, List.of());
  }

  /**
   * As {@link #paper(List, List)}, ranking only with the identify methods named in {@code methods} when it is not
   * empty (an unknown name is bad input naming {@code bench.paper.methods}).
   */
  static Plan paper(List<String> only, List<String> repairing, List<String> methods) {
    Plan all = paper();
    List<String> known = all.settings().stream().map(Setting::name).toList();
    requireKnown(BenchJob.PAPER_SETTINGS, "setting", only, known);
    requireKnown(BenchJob.PAPER_REPAIR_SETTINGS, "setting", repairing, known);
    requireKnown(BenchJob.PAPER_METHODS, "identify method", methods, IDENTIFY_METHODS);
    return new Plan(only.isEmpty() ? all.settings()
        : all.settings().stream().filter(s -> only.contains(s.name())).toList(), all.sweepAtProtocolSize(),
        List.copyOf(repairing),
        methods.isEmpty() ? IDENTIFY_METHODS : IDENTIFY_METHODS.stream().filter(methods::contains).toList());
  }

  private static void requireKnown(String key, String what, List<String> names, List<String> known) {
    for (String name : names) {
      if (!known.contains(name)) {
        throw LetheInputException.of("config key '%s': unknown %s '%s' (known: %s)", key, what, name,
            String.join(", ", known));
      }
    }
  }

  /**
   * The paper suite: label flips, salt-and-pepper and FGSM poisoning with the full training protocol, and symmetric
   * 20% label flips.
   */
  static Plan paper() {
    List<Setting> settings = new ArrayList<>();
    settings.add(paperSetting(LABEL_FLIP, "noise.label-flip { rate = 0.4, pairs = [[0, 6], [2, 4], [7, 9]],"
        + " symmetric = false }"));
    settings.add(paperSetting(SALT_PEPPER, "noise.salt-pepper { fraction = 0.5, classes = [0, 2, 7],"
        + " amount = 0.3 }\nfailures.query-classes = [0, 2, 7]"));
    if (ConfigFactory.parseResources(LetheConfig.class.getClassLoader(), "reference.conf")
        .hasPath("lethe.noise.fgsm")) {
      settings.add(paperSetting(FGSM, "noise.fgsm { fraction = 0.5, pairs = [[0, 6], [2, 4], [7, 9]] }\n"
          + "failures.query-classes = [0, 2, 7]"));
    } else {
      settings.add(new Setting(FGSM, List.of(), "this build has no FGSM poisoning (no noise.fgsm block in"
          + " reference.conf): the fgsm setting is skipped"));
    }
    settings.add(paperSetting(LABEL_FLIP_SYMMETRIC, "noise.label-flip { rate = 0.2, pairs = [[0, 6], [2, 4], [7, 9]],"
        + " symmetric = true }"));
    return new Plan(settings, List.of(50, 100, 200, 400, 800), settings.stream().map(Setting::name).toList());
  }

  /**
   * A paper setting: conf/paper-&lt;name&gt;.conf from the jar when this build ships it, otherwise the protocol
   * (3000 / 2000 images, CNN, Adam 1e-3, batch 64, 30 epochs, patience 5) with {@code noise}.
   */
  private static Setting paperSetting(String name, String noise) {
    String resource = "lethe-conf/paper-" + name + ".conf";
    if (LetheConfig.class.getClassLoader().getResource(resource) != null) {
      return new Setting(name, List.of(LetheConfig.classpathSource(resource)), null);
    }
    String text = String.join("\n", "data.source = bundled", "data.train-size = 3000", "data.test-size = 2000",
        "model.architecture = cnn", "train { learning-rate = 1e-3, batch-size = 64, max-epochs = 30, patience = 5 }",
        noise);
    return new Setting(name, List.of(new LetheConfig.Source("bench suite paper, setting " + name, text)), null);
  }

  /** Runs every setting x seed of {@code plan}; returns the number of steps that failed (each noted). */
  static int run(BenchContext ctx, Plan plan) {
    QualitySuite s = new QualitySuite(ctx, plan);
    for (Setting setting : plan.settings()) {
      if (setting.unavailable() != null) {
        ctx.note("%s", setting.unavailable());
        continue;
      }
      for (LetheConfig.Source layer : setting.layers()) {
        ctx.describeConfiguration("Setting " + setting.name() + ", layer " + layer.name() + ":");
        ctx.describeConfiguration("");
        ctx.describeConfiguration("```hocon");
        ctx.describeConfiguration(layer.text().strip());
        ctx.describeConfiguration("```");
        ctx.describeConfiguration("");
      }
      if (!plan.repairing().contains(setting.name())) {
        ctx.describeConfiguration(String.format(Locale.ROOT, "Rankings %s; no repairs in this setting.",
            plan.methods()));
        ctx.describeConfiguration("");
      } else {
        ctx.describeConfiguration(String.format(Locale.ROOT, "Repairs: %s, each searching its operating point under"
            + " repair.max-benchmark-drop = %s; fine-tuning sweep k %s at %d training examples (scaled to the actual"
            + " size); rankings %s; repairs and sweep from the %s ranking.", RepairMethods.names(),
            Console.plain(SEARCH_LIMIT), plan.sweepAtProtocolSize(), PROTOCOL_ROWS, plan.methods(), RANKING));
        ctx.describeConfiguration("");
      }
      for (long seed : ctx.seeds()) {
        if (ctx.completedEarlier(setting.name(), seed)) {
          ctx.console().line("== bench %s seed %d: completed by an earlier invocation, kept (--resume)",
              setting.name(), seed);
          continue;
        }
        int failuresBefore = s.failures;
        int notesBefore = ctx.notes().size();
        s.runOne(setting, seed);
        ctx.recordPeakMemory(setting.name(), seed, "after-run");
        if (s.failures == failuresBefore && ctx.notes().size() == notesBefore) {
          // only a run without failed steps or notes is kept by --resume (its notes would be lost otherwise)
          ctx.recordComplete(setting.name(), seed);
        }
      }
    }
    return s.failures;
  }

  private LetheConfig config(Setting setting, long seed, String... overrides) {
    List<String> o = new ArrayList<>();
    o.add("seed=" + seed);
    o.addAll(List.of(overrides));
    return ctx.runConfig(setting.layers(), o);
  }

  private void failed(String what, Exception e) {
    failures++;
    LOG.error("bench: {} failed", what, e);
    ctx.note("%s FAILED: %s", what, e.getMessage() == null ? e.toString() : e.getMessage());
  }

  private void runOne(Setting setting, long seed) {
    String name = setting.name() + "-seed" + seed;
    Workdir wd = ctx.runWorkdir(name);
    String where = setting.name() + " seed " + seed;
    LetheConfig base = config(setting, seed);
    try {
      for (Stage stage : List.of(Stage.PREPARE, Stage.TRAIN, Stage.FAILURES, Stage.FISHER)) {
        ctx.console().line("== bench %s: %s", where, stage.cliName());
        double s = ctx.runStage(wd, stage, base);
        ctx.record(TIMING, setting.name(), seed, stage.cliName(), "stage_seconds", s, "s");
      }
    } catch (Exception e) {
      failed(where + ": the pipeline before identify", e);
      return;
    }
    if (!warmedUp) {
      warmUp(wd, setting, seed, where);
    }
    List<String> ranked = new ArrayList<>();
    for (String method : plan.methods()) {
      try {
        ctx.console().line("== bench %s: identify %s", where, method);
        double s = ctx.runStage(wd, Stage.IDENTIFY, config(setting, seed, "identify.method=" + method));
        ranked.add(method);
        recordIdentifyTiming(wd, setting.name(), seed, method, s);
      } catch (Exception e) {
        failed(where + ": identify " + method, e);
      }
    }
    if (ranked.contains(RANKING) && ranked.contains(LinearInfluence.LISSA)) {
      ctx.record(TIMING, setting.name(), seed, RANKING + "/" + LinearInfluence.LISSA, "identify_time_ratio",
          identifySeconds(setting.name(), seed, RANKING) / identifySeconds(setting.name(), seed, LinearInfluence.LISSA),
          "ratio");
    }
    try {
      recordCurves(wd, base, setting.name(), seed, ranked);
    } catch (Exception e) {
      failed(where + ": identification curves", e);
    }
    if (!plan.repairing().contains(setting.name())) {
      return;
    }
    if (!ranked.contains(RANKING)) {
      ctx.note("%s: no %s ranking, so no repairs, fine-tuning sweep or roofline", where, RANKING);
      return;
    }
    try {
      roofline.measure(ctx, setting.name(), seed, wd);
    } catch (Exception e) {
      failed(where + ": roofline", e);
    }
    String ranking = "repair.ranking=" + RANKING;
    for (String method : RepairMethods.names()) {
      RepairSummary r = repair(wd, setting, seed, REPAIR, method, method, ranking,
          "repair.max-benchmark-drop=" + Console.plain(SEARCH_LIMIT));
      if (r != null) {
        recordOperatingPoints(setting.name(), seed, method, r);
      }
    }
    long rows = ctx.results().select(IDENTIFICATION, setting.name(), r -> r.seed() == seed
        && r.method().equals(RANKING) && r.metric().equals("rows")).stream().findFirst().map(r -> (long) r.value())
        .orElse((long) PROTOCOL_ROWS);
    boolean before = false;
    for (int k0 : plan.sweepAtProtocolSize()) {
      long k = Math.max(1, Math.round((double) k0 * rows / PROTOCOL_ROWS));
      RepairSummary r = repair(wd, setting, seed, FINETUNE_SWEEP, Finetune.NAME + "@k=" + k, Finetune.NAME,
          ranking, "repair.selection=top-k", "repair.top-k=" + k);
      if (r != null && !before) {
        before = true;
        recordAccuracies(FINETUNE_SWEEP, setting.name(), seed, "theta_hat", r.before(), "");
        ctx.record(FINETUNE_SWEEP, setting.name(), seed, "theta_hat", "removed", 0, "count");
      }
    }
  }

  /**
   * Runs every identify method once, untimed, on the suite's first run, before its timed identify runs (which
   * replace the outputs with the same ones): the JVM's one-off class loading and JIT compilation of the identify
   * code (Spark's read, sort and Parquet write; each method's own passes) would otherwise all be charged to whichever
   * method runs first in the JVM. Their wall times are recorded as {@code warmup_identify_wall_seconds}. A failure is
   * noted and left to the timed run to report. {@link #NOT_WARMED_UP} are left out.
   */
  private void warmUp(Workdir wd, Setting setting, long seed, String where) {
    warmedUp = true;
    for (String method : plan.methods().stream().filter(m -> !NOT_WARMED_UP.contains(m)).toList()) {
      try {
        ctx.console().line("== bench %s: identify %s (untimed warm-up of this JVM)", where, method);
        double s = ctx.runStage(wd, Stage.IDENTIFY, config(setting, seed, "identify.method=" + method));
        ctx.record(TIMING, setting.name(), seed, method, "warmup_identify_wall_seconds", s, "s");
      } catch (Exception e) {
        LOG.warn("bench: {}: warm-up identify {} failed (the timed run reports it)", where, method, e);
      }
    }
  }

  private double identifySeconds(String setting, long seed, String method) {
    return ctx.results().select(TIMING, setting, r -> r.seed() == seed && r.method().equals(method)
        && r.metric().equals("identify_wall_seconds")).get(0).value();
  }

  private void recordIdentifyTiming(Workdir wd, String setting, long seed, String method, double wall) {
    ctx.record(TIMING, setting, seed, method, "identify_wall_seconds", wall, "s");
    var p = RankingTables.provenance(wd, method);
    for (String part : List.of("read_seconds", "prepare_seconds", "score_seconds")) {
      ctx.record(TIMING, setting, seed, method, part, p.getDouble(part), "s");
    }
    // confident-learning's k fold trainings (part of its prepare time), reported on their own
    if (p.hasPath("artefacts.fold_training_seconds")) {
      ctx.record(TIMING, setting, seed, method, "fold_training_seconds", p.getDouble("artefacts.fold_training_seconds"),
          "s");
    }
  }

  private void recordCurves(Workdir wd, LetheConfig base, String setting, long seed, List<String> methods) {
    List<String> notes = new ArrayList<>();
    List<IdentificationCurve> curves = ReportJob.curves(ctx.stageContext(wd, Stage.REPORT, base), methods, notes);
    notes.forEach(n -> ctx.note("%s seed %d: %s", setting, seed, n));
    for (IdentificationCurve c : curves) {
      String m = c.method();
      ctx.record(IDENTIFICATION, setting, seed, m, "rows", c.rows(), "count");
      ctx.record(IDENTIFICATION, setting, seed, m, "corrupted", c.corrupted(), "count");
      if (!c.hasCorruption()) {
        continue;
      }
      for (double x : GRID) {
        ctx.record(IDENTIFICATION, setting, seed, m, foundMetric(x), x == 0 ? 0 : c.foundAt(x), "fraction");
      }
      for (double f : TOP) {
        ctx.record(IDENTIFICATION, setting, seed, m, shareMetric(f), corruptedShare(c, f), "fraction");
      }
      ctx.record(IDENTIFICATION, setting, seed, m, "auc", c.areaUnderCurve(), "fraction");
    }
  }

  /** The share of corrupted examples among the top {@code fraction} of the ranking. */
  static double corruptedShare(IdentificationCurve c, double fraction) {
    long cut = c.cut(fraction);
    return Math.round(c.foundAt(fraction) * c.corrupted()) / (double) cut;
  }

  static String foundMetric(double inspected) {
    return String.format(Locale.ROOT, "found_at_%.2f", inspected);
  }

  static String shareMetric(double top) {
    return String.format(Locale.ROOT, "corrupted_share_top_%.0fpct", 100 * top);
  }

  /**
   * Runs repair with {@code method} and {@code overrides} (replacing the previous repair/&lt;method&gt;/), records its
   * report under {@code label}; null when it failed.
   */
  private RepairSummary repair(Workdir wd, Setting setting, long seed, String experiment, String label,
      String method, String... overrides) {
    String where = setting.name() + " seed " + seed + ": repair " + label;
    try {
      ctx.console().line("== bench %s", where);
      String[] o = Stream.concat(Stream.of("repair.method=" + method), Stream.of(overrides)).toArray(String[]::new);
      double wall = ctx.runStage(wd, Stage.REPAIR, config(setting, seed, o));
      String rel = WorkdirLayout.repairDir(method) + "/" + WorkdirLayout.REPAIR_REPORT;
      RepairSummary r = RepairSummary.of(Json.parse(wd.readBytes(rel), wd.path(rel).toString()),
          wd.path(rel).toString());
      String s = setting.name();
      recordAccuracies(experiment, s, seed, label, r.after(), experiment.equals(REPAIR) ? "_after" : "");
      if (experiment.equals(REPAIR)) {
        recordAccuracies(experiment, s, seed, label, r.before(), "_before");
        ctx.record(experiment, s, seed, label, "holdout_gain_points",
            100 * (r.after()[RepairSummary.HOLDOUT] - r.before()[RepairSummary.HOLDOUT]), "points");
        ctx.record(experiment, s, seed, label, "rejected", r.rejected() ? 1 : 0, "flag");
        ctx.record(experiment, s, seed, label, "search_seconds", r.searchSeconds(), "s");
        ctx.record(experiment, s, seed, label, "repair_wall_seconds", wall, "s");
      }
      ctx.record(experiment, s, seed, label, "correct_holdout_drop_points", -r.correctHoldoutChangePoints(), "points");
      ctx.record(experiment, s, seed, label, "removed", r.selected(), "count");
      if (r.corruptedSelected() >= 0) {
        ctx.record(experiment, s, seed, label, "removed_corrupted", r.corruptedSelected(), "count");
      }
      return r;
    } catch (Exception e) {
      failed(where, e);
      return null;
    }
  }

  /**
   * The operating point each guardrail of {@link #LIMITS} chooses on the repair's frontier (by Fq and B alone, as
   * the repair stage does): whether one was accepted, and its Fh gain, T\F holdout change, whole-test change and B
   * drop in points (recorded for accepted points only). The search ran under {@link #SEARCH_LIMIT}, so its paths
   * were followed at least as far as the tighter limits need within the stopping rule.
   */
  private void recordOperatingPoints(String setting, long seed, String method, RepairSummary r) {
    RepairReport rep = r.report();
    for (double limit : LIMITS) {
      String suffix = limitSuffix(limit);
      var choice = OperatingPointSearch.choose(rep.frontier(), rep.before(), new RepairEvaluation.Guardrail(limit));
      boolean accepted = choice.isPresent() && choice.get().accepted();
      ctx.record(REPAIR, setting, seed, method, "accepted" + suffix, accepted ? 1 : 0, "flag");
      if (accepted) {
        RepairEvaluation.Accuracies a = choice.get().point().accuracies();
        RepairEvaluation.Accuracies b = rep.before();
        ctx.record(REPAIR, setting, seed, method, "holdout_gain_points" + suffix, 100 * (a.holdout() - b.holdout()),
            "points");
        ctx.record(REPAIR, setting, seed, method, "correct_holdout_change_points" + suffix,
            100 * (a.correctHoldout() - b.correctHoldout()), "points");
        ctx.record(REPAIR, setting, seed, method, "test_change_points" + suffix, 100 * (a.test() - b.test()),
            "points");
        ctx.record(REPAIR, setting, seed, method, "benchmark_drop_points" + suffix,
            100 * (b.benchmark() - a.benchmark()), "points");
      }
    }
  }

  /** The metric suffix of a guardrail: "_delta1" for 1 point. */
  static String limitSuffix(double limit) {
    return "_delta" + Console.plain(limit);
  }

  private void recordAccuracies(String experiment, String setting, long seed, String label, double[] acc,
      String suffix) {
    String[] sets = RepairSummary.SETS;
    for (int i = 0; i < sets.length; i++) {
      ctx.record(experiment, setting, seed, label, "accuracy_" + sets[i] + suffix, acc[i], "fraction");
    }
  }

  private static double[] grid() {
    List<Double> g = new ArrayList<>();
    for (int i = 0; i <= 50; i++) {
      g.add(i / 50.0);
    }
    g.add(0.01);
    g.add(0.05);
    g.add(0.15);
    return g.stream().distinct().sorted().mapToDouble(Double::doubleValue).toArray();
  }
}
