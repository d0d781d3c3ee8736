package dev.lethe.spark;

import com.typesafe.config.Config;
import dev.lethe.LetheInputException;
import dev.lethe.config.LetheConfig;
import dev.lethe.data.Corruption;
import dev.lethe.spark.io.ExampleTables;
import dev.lethe.spark.io.Json;
import dev.lethe.spark.io.Workdir;
import dev.lethe.spark.io.WorkdirLayout;
import dev.lethe.influence.IdentificationCurve;
import dev.lethe.spark.report.RepairSummary;
import dev.lethe.spark.report.ReportCharts;
import dev.lethe.spark.report.ReportPage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stage {@code report}: gathers every rankings/*.parquet and every repair/*&#47;report.json of the workdir into
 * report/index.html (with PNG plots drawn by JFreeChart next to it) and report/summary.json (the same content,
 * machine-readable), and prints the repair summary table.
 *
 * <ul>
 *   <li>identification.png: for every ranking, the fraction of the corrupted training examples (data/train.parquet
 *       column corruption != none) found vs the fraction of the training set inspected in rank order, and the
 *       random baseline. Only computed from the ids and ranks (a join in Spark; the driver collects the ranks of
 *       the corrupted rows).
 *   <li>repair-tradeoff.png: accuracy on Fh vs accuracy on T\F for theta_hat and every repaired model.
 * </ul>
 *
 * <p>Without corruption flags or without any repair the page says so instead of the plot; with neither a ranking
 * table nor a repair report there is nothing to report (bad input, exit 2). The report/ directory is published as
 * one output (replaced whole under {@code --overwrite}).
 */
public final class ReportJob implements StageJob {
  private static final Logger LOG = LoggerFactory.getLogger(ReportJob.class);

  public static void main(String[] args) {
    StageRunner.main(Stage.REPORT, args);
  }

  @Override
  public void validate(LetheConfig c, Configuration hadoop) {}

  /** None required: the report covers whichever rankings and repairs the workdir has. */
  @Override
  public List<Input> inputs(LetheConfig c) {
    return List.of();
  }

  @Override
  public List<String> outputs(LetheConfig c) {
    return List.of(WorkdirLayout.REPORT_DIR);
  }

  @Override
  public void run(JobContext ctx) {
    Workdir wd = ctx.workdir();
    List<String> notes = new ArrayList<>();
    List<String> rankingTables = completeRankingTables(wd, notes);
    List<RepairSummary> repairs = repairReports(wd);
    if (rankingTables.isEmpty() && repairs.isEmpty()) {
      throw LetheInputException.of("nothing to report in %s: no rankings/*.parquet (run `lethe identify`) and no"
          + " repair/*/report.json (run `lethe repair`)", wd.root());
    }
    List<IdentificationCurve> curves = curves(ctx, rankingTables, notes);
    if (!curves.isEmpty() && curves.stream().noneMatch(IdentificationCurve::hasCorruption)) {
      notes.add("The training data carries no corruption flags (data/train.parquet has corruption = none"
          + " everywhere): the share of corrupted examples found by each ranking cannot be measured, so there is"
          + " no identification plot.");
    }
    if (repairs.isEmpty()) {
      notes.add("No repair ran: no repair/*/report.json, so there is no before/after table or trade-off plot.");
    }

    String identificationPng = null;
    String tradeoffPng = null;
    byte[] identification = curves.stream().anyMatch(IdentificationCurve::hasCorruption)
        ? ReportCharts.pngOrNull("identification", () -> ReportCharts.identification(curves), notes) : null;
    byte[] tradeoff = repairs.isEmpty() ? null : ReportCharts.pngOrNull("repair trade-off",
        () -> ReportCharts.tradeoff(repairs), notes);
    ReportPage page;
    try (Workdir.Staging staging = wd.stage("report")) {
      if (identification != null) {
        staging.writeInto(WorkdirLayout.REPORT_DIR, WorkdirLayout.IDENTIFICATION_PNG, identification);
        identificationPng = WorkdirLayout.IDENTIFICATION_PNG;
      }
      if (tradeoff != null) {
        staging.writeInto(WorkdirLayout.REPORT_DIR, WorkdirLayout.TRADEOFF_PNG, tradeoff);
        tradeoffPng = WorkdirLayout.TRADEOFF_PNG;
      }
      page = new ReportPage(wd.root().toString(), Instant.now().toString(), curves, repairs, identificationPng,
          tradeoffPng, notes, curves.stream().anyMatch(IdentificationCurve::hasCorruption) ? corruptions(ctx)
              : List.of());
      staging.writeInto(WorkdirLayout.REPORT_DIR, WorkdirLayout.REPORT_INDEX, page.html().getBytes(StandardCharsets.UTF_8));
      staging.writeInto(WorkdirLayout.REPORT_DIR, WorkdirLayout.REPORT_SUMMARY, Json.render(page.summary()));
      var prov = ctx.provenance("report");
      rankingTables.forEach(t -> prov.input(wd, WorkdirLayout.ranking(t)));
      repairs.forEach(r -> prov.input(wd, WorkdirLayout.repairDir(r.method()) + "/" + WorkdirLayout.REPAIR_REPORT));
      staging.writeProvenance(WorkdirLayout.REPORT_DIR, prov.put("identification_methods", rankingTables)
          .put("repair_methods", repairs.stream().map(RepairSummary::method).toList()).toJson());
      staging.commit();
    }

    for (IdentificationCurve c : curves) {
      if (c.hasCorruption()) {
        ctx.console().line("report: %s finds %s of the %d corrupted training examples in its top 10%% and %s in"
            + " its top 20%% (random ranking: 10%% and 20%%); area under the curve %.3f", c.method(),
            pct(c.foundAt(0.10)), c.corrupted(), pct(c.foundAt(0.20)), c.areaUnderCurve());
      }
    }
    if (!page.identificationTable().isEmpty()) {
      ctx.console().line("report: identification (corrupted share among the top of each ranking):");
      page.identificationTable().forEach(l -> ctx.console().line("  %s", l));
    }
    page.successDirections().forEach(d -> ctx.console().line("report: %s", d));
    if (!repairs.isEmpty()) {
      ctx.console().line("report: repairs (accuracy before -> after at the chosen operating point):");
      page.repairTable().forEach(l -> ctx.console().line("  %s", l));
      long rejected = repairs.stream().filter(RepairSummary::rejected).count();
      if (rejected > 0) {
        ctx.console().line("report: WARNING: %d of %d repairs REJECTED by the guardrail (%s)", rejected,
            repairs.size(), String.join(", ", repairs.stream().filter(RepairSummary::rejected)
                .map(RepairSummary::method).toList()));
      }
    }
    notes.forEach(n -> ctx.console().line("report: note: %s", n));
    ctx.console().line("report: %d identification method(s), %d repair(s) -> %s", curves.size(), repairs.size(),
        wd.path(WorkdirLayout.REPORT_DIR + "/" + WorkdirLayout.REPORT_INDEX));
  }

  /** The methods of the complete ranking tables (a directory with _SUCCESS), sorted; incomplete ones noted. */
  private static List<String> completeRankingTables(Workdir wd, List<String> notes) {
    List<String> names = new ArrayList<>();
    for (FileStatus st : glob(wd, "rankings/*.parquet")) {
      String file = st.getPath().getName();
      String method = file.substring(0, file.length() - ".parquet".length());
      if (st.isDirectory() && wd.exists(WorkdirLayout.ranking(method) + "/" + Workdir.SUCCESS)) {
        names.add(method);
      } else {
        notes.add("Skipped " + st.getPath() + ": not a complete Parquet table (no " + Workdir.SUCCESS + ").");
      }
    }
    names.sort(Comparator.naturalOrder());
    return names;
  }

  /** Every repair/*&#47;report.json, by method name. */
  private static List<RepairSummary> repairReports(Workdir wd) {
    List<RepairSummary> out = new ArrayList<>();
    for (FileStatus st : glob(wd, WorkdirLayout.repairReport("*"))) {
      String source = st.getPath().toString();
      String rel = WorkdirLayout.repairReport(st.getPath().getParent().getName());
      Config c = Json.parse(wd.readBytes(rel), source);
      out.add(RepairSummary.of(c, source));
    }
    out.sort(Comparator.comparing(RepairSummary::method));
    return out;
  }

  private static FileStatus[] glob(Workdir wd, String pattern) {
    try {
      FileStatus[] st = wd.fileSystem().globStatus(wd.path(pattern));
      return st == null ? new FileStatus[0] : st;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + wd.path(pattern), e);
    }
  }

  /**
   * The found-vs-inspected curve of every ranking table of {@code tables} (method names): a join of its (id, rank)
   * with the corrupted ids; tables that cannot be used are skipped with a note. The benchmarks reuse it per run.
   */
  public static List<IdentificationCurve> curves(JobContext ctx, List<String> tables, List<String> notes) {
    List<IdentificationCurve> curves = new ArrayList<>();
    if (tables.isEmpty()) {
      return curves;
    }
    Workdir wd = ctx.workdir();
    Dataset<Row> corrupted = null;
    if (wd.exists(WorkdirLayout.TRAIN)) {
      wd.requireInput(WorkdirLayout.TRAIN, "prepare");
      ctx.describe("read the corruption flags of the training set");
      corrupted = ExampleTables.read(ctx.spark(), wd.path(WorkdirLayout.TRAIN).toString(), ExampleTables.DATA,
          WorkdirLayout.TRAIN).filter(functions.col("corruption").notEqual("none")).select("id").cache();
    } else {
      notes.add("No data/train.parquet: the corruption flags of the training set are unknown.");
    }
    try {
      for (String method : tables) {
        String rel = WorkdirLayout.ranking(method);
        ctx.describe("rank the corrupted examples of " + rel);
        ExampleTables.Table table = ExampleTables.readTable(ctx.spark(), wd.path(rel).toString(),
            ExampleTables.RANKING, rel);
        Dataset<Row> c = table.rows();
        long rows = table.count();
        if (rows == 0) {
          notes.add("Skipped " + rel + ": the table is empty.");
          continue;
        }
        long[] ranks = corrupted == null ? new long[0]
            : c.join(corrupted, "id").select("rank").as(Encoders.LONG()).collectAsList().stream()
                .mapToLong(Long::longValue).sorted().toArray();
        try {
          curves.add(new IdentificationCurve(method, rows, ranks, seconds(wd, rel)));
        } catch (IllegalArgumentException e) {
          throw new LetheInputException(wd.path(rel) + ": " + e.getMessage(), e);
        }
      }
    } finally {
      if (corrupted != null) {
        corrupted.unpersist();
      }
    }
    return curves;
  }

  /** The kinds of corruption in data/train.parquet, in the enum's order. */
  private static List<Corruption> corruptions(JobContext ctx) {
    Workdir wd = ctx.workdir();
    ctx.describe("list the kinds of corruption of the training set");
    List<String> codes = ExampleTables.read(ctx.spark(), wd.path(WorkdirLayout.TRAIN).toString(), ExampleTables.DATA,
        WorkdirLayout.TRAIN).select("corruption").distinct().as(Encoders.STRING()).collectAsList();
    List<Corruption> kinds = new ArrayList<>();
    for (Corruption c : Corruption.values()) {
      if (c != Corruption.NONE && codes.contains(c.code())) {
        kinds.add(c);
      }
    }
    return kinds;
  }

  /** A ranking table's wall time (prepare + score) from its provenance; NaN when not recorded. */
  private static double seconds(Workdir wd, String rel) {
    String p = rel + Workdir.PROVENANCE_SUFFIX;
    if (!wd.exists(p)) {
      return Double.NaN;
    }
    Config prov = Json.parse(wd.readBytes(p), wd.path(p).toString());
    if (!prov.hasPath("prepare_seconds") || !prov.hasPath("score_seconds")) {
      return Double.NaN;
    }
    return prov.getDouble("prepare_seconds") + prov.getDouble("score_seconds");
  }

  private static String pct(double v) {
    return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.1f%%", 100 * v);
  }
}
