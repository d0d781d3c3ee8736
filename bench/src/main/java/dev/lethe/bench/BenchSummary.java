package dev.lethe.bench;

import dev.lethe.influence.EwcInfluence;
import dev.lethe.influence.LinearInfluence;
import dev.lethe.bench.BenchResults.Stat;
import dev.lethe.spark.cli.Console;
import dev.lethe.spark.io.WorkdirLayout;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** summary.md of a bench run: machine, command, the tables of every experiment, the targets, notes, config. */
final class BenchSummary {
  /** Timing targets (reported, never asserted): the ewc-influence identify stage and its ratio to linear-lissa. */
  static final double EWC_SECONDS_TARGET = 5.0;
  static final double EWC_LISSA_RATIO_TARGET = 0.5;
  static final String MEMORY = "memory";

  private final BenchResults r;
  private final StringBuilder md = new StringBuilder();

  private BenchSummary(BenchResults r) {
    this.r = r;
  }

  /**
   * @param facts machine and run facts (name -> value), in order
   * @param plots PNG file names by setting ("" for plots over every setting)
   * @param config the configuration section: command, layers, overrides
   */
  static String markdown(BenchContext ctx, Map<String, String> facts, List<String> plots, List<String> config) {
    BenchSummary s = new BenchSummary(ctx.results());
    s.line("# Lethe benchmarks: suite %s", ctx.suite().cliName());
    s.line("");
    facts.forEach((k, v) -> s.line("- %s: %s", k, v));
    List<String> settings = ctx.results().distinct(QualitySuite.IDENTIFICATION, null, BenchResults.Row::setting);
    for (String setting : settings) {
      s.identification(setting, plots);
    }
    for (String setting : ctx.results().distinct(QualitySuite.REPAIR, null, BenchResults.Row::setting)) {
      s.repairs(setting, plots);
    }
    for (String setting : ctx.results().distinct(QualitySuite.FINETUNE_SWEEP, null, BenchResults.Row::setting)) {
      s.sweep(setting, plots);
    }
    s.timing(plots);
    s.roofline();
    s.memory();
    ctx.sections().forEach(m -> s.line("%n%s", m.strip()));
    s.others();
    if (!ctx.notes().isEmpty()) {
      s.line("");
      s.line("## Notes");
      s.line("");
      ctx.notes().forEach(n -> s.line("- %s", n));
    }
    s.line("");
    s.line("## Command and configuration");
    s.line("");
    config.forEach(l -> s.line("%s", l));
    return s.md.toString();
  }

  private void line(String format, Object... args) {
    md.append(String.format(Locale.ROOT, format, args)).append('\n');
  }

  /** A section: its title, an introductory paragraph and the header of its table (none when empty). */
  private void section(String title, String intro, List<String> columns) {
    line("");
    line("## %s", title);
    line("");
    line("%s", intro);
    if (!columns.isEmpty()) {
      line("");
      line("| %s |", String.join(" | ", columns));
      line("|%s", " --- |".repeat(columns.size()));
    }
  }

  private void plot(List<String> plots, String name) {
    if (plots.contains(name)) {
      line("");
      line("![%s](%s)", name, name);
    }
  }

  /** Which direction counts as success for the setting's noise (" Success: ..."), or "" when unknown. */
  static String successSentence(String setting) {
    dev.lethe.data.Corruption c = QualitySuite.corruptionOf(setting);
    return c == null || c.success() == null ? "" : " Success for " + c.code() + " is a corrupted share at the top "
        + c.success().meaning() + ".";
  }

  private void identification(String setting, List<String> plots) {
    String e = QualitySuite.IDENTIFICATION;
    List<String> methods = r.distinct(e, setting, BenchResults.Row::method);
    Stat rows = r.stat(e, setting, methods.get(0), "rows");
    Stat corrupted = r.stat(e, setting, methods.get(0), "corrupted");
    List<String> columns = new ArrayList<>(List.of("method"));
    for (double f : QualitySuite.TOP) {
      columns.add(String.format(Locale.ROOT, "top %.0f%%", 100 * f));
    }
    columns.add("area (AUC)");
    section(String.format(Locale.ROOT, "Identification: %s (%d seed%s)", setting, rows.n(), rows.n() == 1 ? "" : "s"),
        String.format(Locale.ROOT, "Share of corrupted training examples among the top of each ranking, mean +- std"
        + " over seeds (base rate %s: %.0f corrupted of %.0f training examples); area under the found-vs-inspected"
        + " curve.%s", pct(new Stat(corrupted.mean() / rows.mean(), 0, 1)), corrupted.mean(), rows.mean(),
        successSentence(setting)), columns);
    for (String m : methods) {
      StringBuilder row = new StringBuilder("| " + m + " |");
      for (double f : QualitySuite.TOP) {
        row.append(' ').append(pct(r.stat(e, setting, m, QualitySuite.shareMetric(f)))).append(" |");
      }
      line("%s %s |", row, num(r.stat(e, setting, m, "auc"), 3));
    }
    plot(plots, "identification-" + setting + ".png");
  }

  private void repairs(String setting, List<String> plots) {
    String e = QualitySuite.REPAIR;
    section("Repair: " + setting, "Every repair method erases the top 15% of the " + QualitySuite.RANKING + " ranking"
        + " (repair.selection defaults) and searches its operating point (repair.search.* defaults) under a"
        + " guardrail of " + Console.plain(QualitySuite.SEARCH_LIMIT) + " points on the benchmark cases B; the point"
        + " each guardrail delta chooses on that frontier (by Fq and B alone) is reported. Changes in points, mean"
        + " +- std over the seeds with an accepted point; Fh and the T\\F holdout were read by no decision.",
        List.of("repair", "delta", "seeds accepted", "Fh gain", "T\\F holdout change", "test change", "B drop",
            "search s"));
    for (String m : r.distinct(e, setting, BenchResults.Row::method)) {
      for (double limit : QualitySuite.LIMITS) {
        String d = QualitySuite.limitSuffix(limit);
        Stat accepted = r.stat(e, setting, m, "accepted" + d);
        line("| %s | %s | %.0f of %d | %s | %s | %s | %s | %s |", m, Console.plain(limit),
            accepted.mean() * accepted.n(), accepted.n(), num(r.stat(e, setting, m, "holdout_gain_points" + d), 1),
            num(r.stat(e, setting, m, "correct_holdout_change_points" + d), 1),
            num(r.stat(e, setting, m, "test_change_points" + d), 1),
            num(r.stat(e, setting, m, "benchmark_drop_points" + d), 2),
            num(r.stat(e, setting, m, "search_seconds"), 1));
      }
    }
    plot(plots, "tradeoff-" + setting + ".png");
  }

  private void sweep(String setting, List<String> plots) {
    String e = QualitySuite.FINETUNE_SWEEP;
    section("Fine-tuning on D\\C after removing the top k: " + setting, "Fine-tuning (repair.finetune settings) on"
        + " the training set without the top k of the " + QualitySuite.RANKING + " ranking; k = 0 is theta_hat."
        + " Accuracies mean +- std over seeds.", List.of("k removed", "corrupted removed", "Fq", "Fh", "T\\F",
        "test"));
    List<String> points = new ArrayList<>(r.distinct(e, setting, BenchResults.Row::method));
    points.sort(Comparator.comparingDouble(m -> r.stat(e, setting, m, "removed").mean()));
    for (String m : points) {
      line("| %s | %s | %s | %s | %s | %s |", num(r.stat(e, setting, m, "removed"), 0),
          m.equals("theta_hat") ? "-" : num(r.stat(e, setting, m, "removed_corrupted"), 0),
          pct(r.stat(e, setting, m, "accuracy_query")), pct(r.stat(e, setting, m, "accuracy_holdout")),
          pct(r.stat(e, setting, m, "accuracy_correct_holdout")), pct(r.stat(e, setting, m, "accuracy_test")));
    }
    plot(plots, "finetune-sweep-" + setting + ".png");
  }

  private void timing(List<String> plots) {
    String e = QualitySuite.TIMING;
    if (r.select(e, null, row -> row.metric().equals("identify_wall_seconds")).isEmpty()) {
      return;
    }
    section("Timing: cause identification on this machine", "Wall time of the identify stage per method (measured"
        + " around the stage body, in this JVM), and its parts from the ranking table's provenance; mean +- std over"
        + " every setting and seed, seconds. ewc-influence also needs the fisher stage ("
        + num(r.stat(e, null, "fisher", "stage_seconds"), 1) + " s): the Fisher diagonal, and log p(z|theta_hat) of"
        + " every training example (fisher/logp.bin: from the per-example gradients' forward passes), which its scoring looks up; linear-cg and"
        + " linear-lissa use a sampled full Fisher of their own. Before the first run's timed identify runs, every"
        + " method ran once untimed on the same inputs (the JVM's warm-up: class loading and JIT compilation; those"
        + " times are listed below the table).", List.of("method", "identify stage",
        "read inputs", "prepare (driver)", "score and rank"));
    for (String m : QualitySuite.IDENTIFY_METHODS) {
      Stat wall = r.stat(e, null, m, "identify_wall_seconds");
      if (wall.n() > 0) {
        line("| %s | %s | %s | %s | %s |", m, num(wall, 2), num(r.stat(e, null, m, "read_seconds"), 2),
            num(r.stat(e, null, m, "prepare_seconds"), 2), num(r.stat(e, null, m, "score_seconds"), 2));
      }
    }
    List<String> warm = new ArrayList<>();
    for (String m : QualitySuite.IDENTIFY_METHODS) {
      Stat w = r.stat(e, null, m, "warmup_identify_wall_seconds");
      if (w.n() > 0) {
        warm.add(m + " " + num(w, 2) + " s");
      }
    }
    if (!warm.isEmpty()) {
      line("");
      line("Untimed warm-up runs (the JVM's first identify of each method, in this order): %s.",
          String.join(", ", warm));
    }
    line("");
    line("Other stages (mean seconds): %s.", String.join(", ", r.distinct(e, null, BenchResults.Row::method).stream()
        .filter(m -> r.stat(e, null, m, "stage_seconds").n() > 0)
        .map(m -> m + " " + num(r.stat(e, null, m, "stage_seconds"), 1)).toList()));
    line("");
    line("Targets (measured in this run; reported, not asserted):");
    line("");
    line("| target | measured | target | met |");
    line("| --- | --- | --- | --- |");
    Stat ewc = r.stat(e, null, EwcInfluence.NAME, "identify_wall_seconds");
    Stat rows = r.stat(QualitySuite.IDENTIFICATION, null, EwcInfluence.NAME, "rows");
    String size = rows.n() > 0 && rows.mean() != QualitySuite.PROTOCOL_ROWS
        ? String.format(Locale.ROOT, " (this run: %.0f training examples, not the protocol's %d)", rows.mean(),
        QualitySuite.PROTOCOL_ROWS) : "";
    line("| ewc-influence identify stage, 3000-example protocol%s | %s s | <= %s s | %s |", size, num(ewc, 2),
        Console.plain(EWC_SECONDS_TARGET), met(ewc, EWC_SECONDS_TARGET));
    Stat ratio = r.stat(e, null, EwcInfluence.NAME + "/" + LinearInfluence.LISSA, "identify_time_ratio");
    line("| ewc-influence time / linear-lissa time (same run) | %s | <= %s | %s |", num(ratio, 3),
        Console.plain(EWC_LISSA_RATIO_TARGET), met(ratio, EWC_LISSA_RATIO_TARGET));
    plot(plots, "timing.png");
  }

  private void roofline() {
    String e = Roofline.EXPERIMENT;
    Stat fraction = r.stat(e, null, EwcInfluence.NAME, "roofline_fraction");
    if (fraction.n() == 0) {
      return;
    }
    section("Roofline", String.format(Locale.ROOT, "ewc-influence scoring: training rows x %s forward passes per row"
        + " (1 when log p(z|theta_hat) comes from the fisher stage's fisher/logp.bin, else 2) x %s FLOP per forward"
        + " pass (conv and dense multiply-adds, double precision) over the %s scoring_pass_seconds"
        + " (reading, partitioning and scoring; not ranking or writing) = %s GFLOP/s;"
        + " ND4J double-precision GEMM (%dx%d) with the same number of threads (%s) in the same run: %s GFLOP/s,"
        + " the better of one product on that many BLAS threads (%s) and as many concurrent single-threaded products"
        + " (%s, the way single-threaded tasks score). Scoring reaches **%s** of the GEMM rate (target >= %.0f%%:"
        + " %s).",
        num(r.stat(e, null, EwcInfluence.NAME, "forward_passes_per_row"), 0),
        num(r.stat(e, null, EwcInfluence.NAME, "forward_flops_per_example"), 0), WorkdirLayout.ranking("ewc-influence"),
        num(scaled(r.stat(e, null, EwcInfluence.NAME, "scoring_flops_per_second")), 3), Roofline.GEMM_SIZE,
        Roofline.GEMM_SIZE, num(r.stat(e, null, EwcInfluence.NAME, "threads"), 0),
        num(scaled(r.stat(e, null, EwcInfluence.NAME, "gemm_flops_per_second")), 3),
        num(scaled(r.stat(e, null, EwcInfluence.NAME, "gemm_threaded_flops_per_second")), 3),
        num(scaled(r.stat(e, null, EwcInfluence.NAME, "gemm_concurrent_flops_per_second")), 3), pct(fraction),
        100 * Roofline.TARGET, fraction.mean() >= Roofline.TARGET ? "met" : "not met"), List.of());
    Stat forward = r.stat(e, null, EwcInfluence.NAME, "forward_fraction");
    if (forward.n() > 0) {
      line("");
      line("Without reading and partitioning the table (the random ranking's scoring pass in the same run, which does"
          + " both with no model: %s s), the forward passes run at %s GFLOP/s, %s of the GEMM rate.",
          num(r.stat(e, null, EwcInfluence.NAME, "read_partition_seconds"), 2),
          num(scaled(r.stat(e, null, EwcInfluence.NAME, "forward_flops_per_second")), 3), pct(forward));
    }
    Stat jit = r.stat(e, null, EwcInfluence.NAME, Roofline.JIT_SECONDS);
    if (jit.n() > 0) {
      line("");
      line("During the pass the JVM's JIT compilers worked for %s s (the identify provenance's %s). In local mode the"
          + " tasks run in that JVM, and the compiler threads take cores from them: a pass this short in a young JVM"
          + " scores below its steady rate. The scale suite measures the roofline over longer passes as well.",
          num(jit, 2), Roofline.JIT_SECONDS);
    }
  }

  private void memory() {
    Stat resident = r.stat(MEMORY, null, "suite", "peak_resident_mb");
    Stat heap = r.stat(MEMORY, null, "suite", "peak_heap_mb");
    if (heap.n() == 0) {
      return;
    }
    section("Memory", "Peak memory of the bench JVM over the whole suite (the quick and paper suites run every"
        + " stage in it, and in local mode the executors too; the scale suite runs its stages in JVMs of their own,"
        + " listed with the scale figures, and only the warm identify runs of its Spark-overhead comparison in"
        + " this one): resident high-water mark " + num(resident, 0) + " MB, heap pools' peak "
        + num(heap, 0) + " MB.", List.of());
  }

  /** Rows of experiments this class has no table for (e.g. the scale suite's), listed as they are. */
  private void others() {
    List<BenchResults.Row> rest = r.rows().stream().filter(row -> !List.of(QualitySuite.IDENTIFICATION,
        QualitySuite.REPAIR, QualitySuite.FINETUNE_SWEEP, QualitySuite.TIMING, Roofline.EXPERIMENT, MEMORY,
        BenchState.RUN)
        .contains(row.experiment())).toList();
    if (rest.isEmpty()) {
      return;
    }
    section("Other measurements", "Rows of results.csv without a table of their own.", List.of("experiment",
        "setting", "seed", "method", "metric", "value", "unit"));
    rest.forEach(row -> line("| %s | %s | %d | %s | %s | %s | %s |", row.experiment(), row.setting(), row.seed(),
        row.method(), row.metric(), String.format(Locale.ROOT, "%.4g", row.value()), row.unit()));
  }

  private static Stat scaled(Stat s) {
    return new Stat(s.mean() / 1e9, s.std() / 1e9, s.n());
  }

  private static String met(Stat s, double target) {
    return s.n() == 0 ? "not measured" : s.mean() <= target ? "yes" : "no";
  }

  static String pct(Stat s) {
    if (s.n() == 0 || !Double.isFinite(s.mean())) {
      return "n/a";
    }
    return s.n() > 1 ? String.format(Locale.ROOT, "%.1f%% +- %.1f", 100 * s.mean(), 100 * s.std())
        : String.format(Locale.ROOT, "%.1f%%", 100 * s.mean());
  }

  static String num(Stat s, int decimals) {
    if (s.n() == 0 || !Double.isFinite(s.mean())) {
      return "n/a";
    }
    String f = "%." + decimals + "f";
    return s.n() > 1 ? String.format(Locale.ROOT, f + " +- " + f, s.mean(), s.std())
        : String.format(Locale.ROOT, f, s.mean());
  }
}
