package dev.lethe.bench;

import dev.lethe.LetheInputException;
import dev.lethe.config.LetheConfig;
import dev.lethe.influence.EwcInfluence;
import dev.lethe.influence.IdentificationCurve;
import dev.lethe.spark.ReportJob;
import dev.lethe.spark.Stage;
import dev.lethe.spark.io.RankingTables;
import dev.lethe.spark.io.Workdir;
import dev.lethe.spark.io.WorkdirLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The settings study of ewc-influence ({@code lethe bench --suite ewc-study}): how the knobs of the EWC update
 * (Tanno et al. 2022, Eq. 10; {@code identify.ewc.*}) and the size of the query set Fq (the paper's Fig. 6) change
 * the share of corrupted examples at the top of its ranking. Per seed of one paper setting
 * ({@code bench.ewc-study.setting}), the pipeline runs once up to {@code fisher} (or its outputs are copied from an
 * earlier bench's run of that setting and seed, {@code bench.ewc-study.start-from}); then identify ewc-influence runs
 * in the same JVM once per variant:
 *
 * <ul>
 *   <li>with {@code bench.ewc-study.sweep}, one knob at a time around the configured settings ({@link #SWEEP});
 *   <li>every variant of {@code bench.ewc-study.variants} (each a string of {@code key=value} pairs over
 *       {@code identify.ewc.*}; "" = the configured settings);
 *   <li>the configured settings and those variants again at every {@code bench.ewc-study.query-fractions}, after the
 *       failures stage re-split Fq with that {@code failures.query-fraction}.
 * </ul>
 *
 * <p>The methods of {@code bench.ewc-study.compare-methods} (e.g. linear-lissa) rank on the same workdir at every
 * query fraction. Each ranking's share of corrupted examples at the top 1/5/10/20% and its area under
 * found-vs-inspected go to results.csv under experiment {@link #EXPERIMENT}, method {@code NAME[variant]}; summary.md
 * tabulates the mean over seeds. Settings are compared on the ranking quality against the recorded corruption only
 * (never on the failure holdout Fh or the T\F holdout).
 */
final class EwcStudy {
  private static final Logger LOG = LoggerFactory.getLogger(EwcStudy.class);
  static final String EXPERIMENT = "ewc-study";
  static final String KEY = "bench.ewc-study.";
  private static final Pattern VARIANT_KEY = Pattern.compile("[a-z][a-z-]*");

  /** The one-knob-at-a-time sweep: key of identify.ewc.* -> its values. */
  static final Map<String, List<String>> SWEEP = sweep();

  private final BenchContext ctx;
  private final QualitySuite.Setting setting;
  private final boolean doSweep;
  private final List<String> variants;
  private final List<Double> queryFractions;
  private final List<String> compare;
  private final String startFrom;
  private int failures;

  private EwcStudy(BenchContext ctx, QualitySuite.Setting setting, boolean doSweep, List<String> variants,
      List<Double> queryFractions, List<String> compare, String startFrom) {
    this.ctx = ctx;
    this.setting = setting;
    this.doSweep = doSweep;
    this.variants = variants;
    this.queryFractions = queryFractions;
    this.compare = compare;
    this.startFrom = startFrom;
  }

  private static Map<String, List<String>> sweep() {
    Map<String, List<String>> m = new LinkedHashMap<>();
    m.put("gamma", List.of("0.003", "0.01", "0.1", "0.3", "1.0"));
    m.put("lambda", List.of("0", "0.01", "0.1"));
    m.put("learning-rate", List.of("1e-4", "3e-4", "3e-3"));
    m.put("max-epochs", List.of("1", "3", "10", "30"));
    m.put("patience", List.of("1", "2", "10", "20"));
    m.put("stop-on", List.of("accuracy"));
    m.put("validation-fraction", List.of("0", "0.25"));
    return m;
  }

  /** The setting the study runs on; bad input naming the key for an unknown one. */
  static QualitySuite.Setting setting(LetheConfig c) {
    String name = c.getString(KEY + "setting").trim();
    QualitySuite.Plan all = QualitySuite.paper();
    for (QualitySuite.Setting s : all.settings()) {
      if (s.name().equals(name) && s.unavailable() == null) {
        return s;
      }
    }
    throw LetheInputException.of("config key '%ssetting': unknown setting '%s' (known: %s)", KEY, name,
        String.join(", ", all.settings().stream().filter(s -> s.unavailable() == null)
            .map(QualitySuite.Setting::name).toList()));
  }

  /** Checks every key of the study (bad input naming it) before anything runs. */
  static void validate(LetheConfig c) {
    setting(c);
    for (String v : c.getStringList(KEY + "variants")) {
      overrides(v);
    }
    for (double f : c.getDoubleList(KEY + "query-fractions")) {
      if (!(f > 0 && f < 1)) {
        throw LetheInputException.of("config key '%squery-fractions': %s is not in (0, 1)", KEY, f);
      }
    }
    for (String m : c.getStringList(KEY + "compare-methods")) {
      dev.lethe.influence.InfluenceMethods.requireKnown(m);
    }
    c.positiveInt(KEY + "seeds");
    c.getBoolean(KEY + "sweep");
  }

  /** A variant's overrides: {@code "gamma=0.1 learning-rate=1e-4"} -> identify.ewc.gamma=0.1, ... */
  static List<String> overrides(String variant) {
    List<String> o = new ArrayList<>();
    for (String pair : variant.trim().split("\\s+")) {
      if (pair.isEmpty()) {
        continue;
      }
      int eq = pair.indexOf('=');
      if (eq <= 0 || eq == pair.length() - 1 || !VARIANT_KEY.matcher(pair.substring(0, eq)).matches()) {
        throw LetheInputException.of("config key '%svariants': '%s' is not key=value over identify.ewc.* (in '%s')",
            KEY, pair, variant);
      }
      o.add("identify.ewc." + pair);
    }
    return o;
  }

  /** Runs the study on every seed; returns the number of steps that failed (each noted). */
  static int run(BenchContext ctx) {
    LetheConfig c = ctx.config();
    EwcStudy s = new EwcStudy(ctx, setting(c), c.getBoolean(KEY + "sweep"), c.getStringList(KEY + "variants"),
        c.getDoubleList(KEY + "query-fractions"), c.getStringList(KEY + "compare-methods"),
        c.getString(KEY + "start-from").trim());
    ctx.describeConfiguration(String.format(Locale.ROOT, "Setting %s; sweep %s (%s); variants %s; query fractions"
        + " %s; compared methods %s; pipeline up to fisher %s.", s.setting.name(), s.doSweep, SWEEP, s.variants,
        s.queryFractions, s.compare, s.startFrom.isEmpty() ? "run per seed" : "copied from " + s.startFrom));
    ctx.describeConfiguration("");
    for (long seed : ctx.seeds()) {
      s.runSeed(seed);
      ctx.recordPeakMemory(s.setting.name(), seed, "after-run");
    }
    ctx.addSection(s.table());
    return s.failures;
  }

  private LetheConfig config(long seed, List<String> overrides) {
    List<String> o = new ArrayList<>();
    o.add("seed=" + seed);
    o.addAll(overrides);
    return ctx.runConfig(setting.layers(), o);
  }

  /**
   * Copies the outputs of prepare, train, failures and fisher (with their provenance) from
   * {@code <start-from>/runs/<run>/} into {@code wd}.
   */
  private void copyPipeline(Workdir wd, String run) throws java.io.IOException {
    Workdir from = Workdir.open(startFrom + "/" + BenchContext.RUNS + "/" + run,
        ctx.spark().sparkContext().hadoopConfiguration(), false);
    List<String> rels = new ArrayList<>(List.of(WorkdirLayout.TRAIN, WorkdirLayout.TEST, WorkdirLayout.BASE_MODEL,
        WorkdirLayout.FISHER_DIAG, WorkdirLayout.FISHER_LOGP));
    rels.addAll(WorkdirLayout.FAILURES);
    if (from.exists(WorkdirLayout.CHECKPOINTS)) {
      rels.add(WorkdirLayout.CHECKPOINTS);
    }
    ctx.console().line("== ewc-study %s: copying the pipeline up to fisher from %s", run, from.root());
    org.apache.hadoop.conf.Configuration conf = ctx.spark().sparkContext().hadoopConfiguration();
    for (String rel : rels) {
      for (String r : List.of(rel, rel + Workdir.PROVENANCE_SUFFIX)) {
        if (!from.exists(r)) {
          throw LetheInputException.of("%s: %s is missing: the run did not get as far as fisher", from.root(), r);
        }
        wd.fileSystem().delete(wd.path(r), true);
        org.apache.hadoop.fs.FileUtil.copy(from.fileSystem(), from.path(r), wd.fileSystem(), wd.path(r), false,
            conf);
      }
    }
  }

  private void failed(String what, Exception e) {
    failures++;
    LOG.error("bench: {} failed", what, e);
    ctx.note("%s FAILED: %s", what, e.getMessage() == null ? e.toString() : e.getMessage());
  }

  private void runSeed(long seed) {
    Workdir wd = ctx.runWorkdir(setting.name() + "-seed" + seed);
    String where = setting.name() + " seed " + seed;
    LetheConfig base = config(seed, List.of());
    try {
      if (!startFrom.isEmpty()) {
        copyPipeline(wd, setting.name() + "-seed" + seed);
      } else {
        for (Stage stage : List.of(Stage.PREPARE, Stage.TRAIN, Stage.FAILURES, Stage.FISHER)) {
          ctx.console().line("== ewc-study %s: %s", where, stage.cliName());
          ctx.runStage(wd, stage, base);
        }
      }
    } catch (Exception e) {
      failed(where + ": the pipeline before identify", e);
      return;
    }
    double configured = base.getDouble("failures.query-fraction");
    for (String m : compare) {
      rank(wd, seed, m, "", List.of());
    }
    rank(wd, seed, EwcInfluence.NAME, "", List.of());
    if (doSweep) {
      for (var e : SWEEP.entrySet()) {
        for (String v : e.getValue()) {
          String variant = e.getKey() + "=" + v;
          rank(wd, seed, EwcInfluence.NAME, variant, overrides(variant));
        }
      }
    }
    for (String v : variants) {
      if (!v.isBlank()) {
        rank(wd, seed, EwcInfluence.NAME, v.trim(), overrides(v));
      }
    }
    boolean resplit = false;
    for (double f : queryFractions) {
      if (f == configured) {
        continue;
      }
      resplit = true;
      String q = "failures.query-fraction=" + f;
      try {
        ctx.console().line("== ewc-study %s: failures with %s", where, q);
        ctx.runStage(wd, Stage.FAILURES, config(seed, List.of(q)));
      } catch (Exception e) {
        failed(where + ": failures with " + q, e);
        continue;
      }
      String tag = "query-fraction=" + f;
      for (String m : compare) {
        rank(wd, seed, m, tag, List.of(q));
      }
      rank(wd, seed, EwcInfluence.NAME, tag, List.of(q));
      for (String v : variants) {
        if (!v.isBlank()) {
          List<String> o = new ArrayList<>(overrides(v));
          o.add(q);
          rank(wd, seed, EwcInfluence.NAME, v.trim() + " " + tag, o);
        }
      }
    }
    if (resplit) {
      // the run's workdir is left with the configured split, as another study may start from it
      try {
        ctx.runStage(wd, Stage.FAILURES, base);
      } catch (Exception e) {
        failed(where + ": failures with the configured query fraction", e);
      }
    }
  }

  /** Identify with {@code method} under {@code overrides}; records the ranking's quality as {@code method[variant]}. */
  private void rank(Workdir wd, long seed, String method, String variant, List<String> overrides) {
    String label = variant.isEmpty() ? method : method + "[" + variant + "]";
    String where = setting.name() + " seed " + seed + ": identify " + label;
    List<String> o = new ArrayList<>(overrides);
    o.add("identify.method=" + method);
    try {
      ctx.console().line("== ewc-study %s", where);
      LetheConfig c = config(seed, o);
      double wall = ctx.runStage(wd, Stage.IDENTIFY, c);
      List<String> notes = new ArrayList<>();
      List<IdentificationCurve> curves = ReportJob.curves(ctx.stageContext(wd, Stage.REPORT, c), List.of(method),
          notes);
      notes.forEach(n -> ctx.note("%s: %s", where, n));
      String s = setting.name();
      for (IdentificationCurve curve : curves) {
        if (!curve.hasCorruption()) {
          ctx.note("%s: the training set records no corruption, so nothing to measure", where);
          continue;
        }
        for (double f : QualitySuite.TOP) {
          ctx.record(EXPERIMENT, s, seed, label, QualitySuite.shareMetric(f), QualitySuite.corruptedShare(curve, f),
              "fraction");
        }
        ctx.record(EXPERIMENT, s, seed, label, "auc", curve.areaUnderCurve(), "fraction");
      }
      ctx.record(EXPERIMENT, s, seed, label, "identify_wall_seconds", wall, "s");
      var p = RankingTables.provenance(wd, method);
      if (p.hasPath("diagnostics.epochsRun")) {
        ctx.record(EXPERIMENT, s, seed, label, "epochs_run", p.getDouble("diagnostics.epochsRun"), "count");
        ctx.record(EXPERIMENT, s, seed, label, "best_epoch", p.getDouble("diagnostics.bestEpoch"), "count");
      }
    } catch (Exception e) {
      failed(where, e);
    }
  }

  /** The mean over seeds of each ranking's corrupted share at the top 1/5/10/20%, best top-10% share first. */
  private String table() {
    BenchResults r = ctx.results();
    String s = setting.name();
    List<String> labels = r.distinct(EXPERIMENT, s, BenchResults.Row::method);
    String top10 = QualitySuite.shareMetric(0.10);
    List<String> sorted = new ArrayList<>(labels);
    sorted.sort((a, b) -> Double.compare(mean(r, s, b, top10), mean(r, s, a, top10)));
    StringBuilder md = new StringBuilder();
    md.append("## EWC-influence settings study (").append(s).append(", seeds ").append(ctx.seeds()).append(")\n\n");
    md.append("Mean over seeds of the corrupted share at the top of each ranking; best top-10% share first.\n\n");
    md.append("| ranking | top 1% | top 5% | top 10% | top 20% | AUC | seeds |\n|---|---|---|---|---|---|---|\n");
    for (String label : sorted) {
      md.append("| ").append(label.replace("|", "\\|"));
      for (double f : QualitySuite.TOP) {
        md.append(String.format(Locale.ROOT, " | %.1f%%", 100 * mean(r, s, label, QualitySuite.shareMetric(f))));
      }
      md.append(String.format(Locale.ROOT, " | %.3f | %d |%n", mean(r, s, label, "auc"),
          r.select(EXPERIMENT, s, row -> row.method().equals(label) && row.metric().equals(top10)).size()));
    }
    return md.toString();
  }

  private static double mean(BenchResults r, String setting, String label, String metric) {
    List<BenchResults.Row> rows = r.select(EXPERIMENT, setting, row -> row.method().equals(label)
        && row.metric().equals(metric));
    return rows.stream().mapToDouble(BenchResults.Row::value).average().orElse(Double.NaN);
  }
}
