package dev.lethe.bench;

import dev.lethe.LetheInputException;
import dev.lethe.spark.BenchCommand;
import dev.lethe.spark.JobContext;
import dev.lethe.spark.Stage;
import dev.lethe.spark.StageRunner;
import dev.lethe.spark.cli.StageArgs;
import dev.lethe.spark.exec.PeakMemory;
import dev.lethe.spark.io.Workdir;
import dev.lethe.spark.report.ReportCharts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.jfree.chart.JFreeChart;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Stage {@code bench}: {@code lethe bench [--suite quick|paper|scale|backend|ewc-study] [--workdir ROOT]} runs a
 * benchmark suite and writes ROOT/&lt;suite&gt;/ (ROOT defaults to {@code bench}): results.csv (one row per measurement, appended as the
 * runs progress), the experiment runs' workdirs under runs/, and at the end summary.md and the PNG plots (published
 * together from a staging directory). An existing ROOT/&lt;suite&gt;/ is replaced only under {@code --overwrite}.
 * {@code --resume} continues a quick or paper suite an earlier invocation left (killed, or run with fewer
 * {@code bench.paper.seeds}): it keeps the setting x seed runs that completed and runs the rest ({@link BenchState}).
 *
 * <p>Suites: {@code quick} and {@code paper} ({@link QualitySuite}), {@code scale} ({@link ScaleSuite}). Speed
 * targets are reported as measured value, target and met or not; nothing here asserts them.
 */
public final class BenchJob implements BenchCommand {
  public static final String SUMMARY = "summary.md";
  /** Config key: the number of seeds of the paper suite (the configured seed and the next ones). */
  static final String PAPER_SEEDS = "bench.paper.seeds";
  static final String PAPER_SETTINGS = "bench.paper.settings";
  static final String PAPER_REPAIR_SETTINGS = "bench.paper.repair-settings";
  static final String PAPER_METHODS = "bench.paper.methods";

  /** The {@code bench} command, as {@link BenchCommand#load()} finds it (META-INF/services). */
  public BenchJob() {}

  public static void main(String[] args) {
    StageRunner.main(Stage.BENCH, args);
  }

  @Override
  public void checkSuite(String name) {
    BenchSuite.byName(name);
  }

  @Override
  public void run(JobContext ctx) throws Exception {
    BenchSuite suite = BenchSuite.byName(ctx.args().suite().orElse(StageArgs.DEFAULT_SUITE));
    Workdir root = ctx.workdir();
    String name = suite.cliName();
    boolean resume = ctx.args().resume();
    if (resume && (suite == BenchSuite.SCALE || suite == BenchSuite.BACKEND || suite == BenchSuite.EWC_STUDY)) {
      throw LetheInputException.of("--resume: the %s suite cannot be resumed; rerun it with --overwrite", name);
    }
    Map<String, String> machine = Machine.facts(ctx.spark());
    if (resume) {
      BenchState.requireResumable(root, name, suite, ctx.config(), machine);
    } else {
      root.requireWritable(List.of(name));
    }
    if (suite == BenchSuite.SCALE) {
      ScaleSuite.Settings.of(ctx.config()); // bad settings (e.g. no dataset) stop the suite before it writes anything
    }
    if (suite == BenchSuite.BACKEND) {
      BackendSuite.Settings.of(ctx.config());
    }
    if (suite == BenchSuite.EWC_STUDY) {
      EwcStudy.validate(ctx.config()); // a bad study key stops the suite before it writes anything
    }
    int seedCount = switch (suite) {
      case PAPER -> ctx.config().positiveInt(PAPER_SEEDS);
      case EWC_STUDY -> ctx.config().positiveInt(EwcStudy.KEY + "seeds");
      default -> 1;
    };
    if (suite == BenchSuite.PAPER) {
      paperPlan(ctx.config()); // an unknown setting stops the suite here
    }
    List<BenchResults.Row> previous = resume && root.exists(name + "/" + BenchResults.FILE)
        ? BenchResults.read(root.fileSystem(), root.path(name + "/" + BenchResults.FILE)) : List.of();
    Set<String> done = BenchState.completedRuns(previous);
    // the completed runs' rows; suite-wide rows (setting "all") are measured again by this invocation
    List<BenchResults.Row> earlier = previous.stream().filter(r -> done.contains(BenchState.key(r.setting(),
        r.seed()))).toList();
    if (!resume && root.exists(name)) {
      ctx.console().line("bench: replacing %s (--overwrite)", root.path(name));
      delete(root, name);
    }
    Workdir out = Workdir.open(root.path(name).toString(), ctx.spark().sparkContext().hadoopConfiguration(), true);
    if (suite != BenchSuite.SCALE && suite != BenchSuite.BACKEND) {
      BenchState.write(out, suite, ctx.config(), machine);
    }
    List<Long> seeds = new ArrayList<>();
    for (int i = 0; i < seedCount; i++) {
      seeds.add(ctx.seed() + i);
    }
    String started = Instant.now().toString();
    long start = System.nanoTime();
    int failed;
    try (BenchResults results = resume
        ? new BenchResults(name, out.fileSystem(), out.path(BenchResults.FILE), earlier)
        : new BenchResults(name, out.fileSystem(), out.path(BenchResults.FILE))) {
      BenchContext b = new BenchContext(ctx, suite, out, seeds, results, done);
      ctx.console().line("bench: suite %s, seeds %s -> %s", name, seeds, out.root());
      if (resume) {
        ctx.console().line("bench: --resume: keeping %d completed run(s) %s; running the others",
            b.earlierRuns().size(), b.earlierRuns());
      }
      failed = switch (suite) {
        case QUICK -> QualitySuite.run(b, QualitySuite.quick());
        case PAPER -> QualitySuite.run(b, paperPlan(ctx.config()));
        case EWC_STUDY -> EwcStudy.run(b);
        case SCALE -> {
          ScaleSuite.run(b);
          yield 0;
        }
        case BACKEND -> {
          BackendSuite.run(b);
          yield 0;
        }
      };
      double wall = (System.nanoTime() - start) / 1e9;
      b.record(QualitySuite.TIMING, "all", ctx.seed(), "suite", "suite_wall_seconds", wall, "s");
      b.recordPeakMemory("all", ctx.seed(), "suite");
      publish(b, started, wall, machine);
      ctx.console().line("bench: suite %s done in %.1f s -> %s, %s", name, wall, out.path(BenchResults.FILE),
          out.path(SUMMARY));
    }
    if (failed > 0) {
      throw new IllegalStateException(failed + " benchmark step(s) failed (see the notes in " + out.path(SUMMARY)
          + " and the log)");
    }
  }

  /**
   * The paper suite's plan from {@code bench.paper.settings}, {@code bench.paper.repair-settings} and
   * {@code bench.paper.methods}.
   */
  private static QualitySuite.Plan paperPlan(dev.lethe.config.LetheConfig c) {
    return QualitySuite.paper(c.getStringList(PAPER_SETTINGS), c.getStringList(PAPER_REPAIR_SETTINGS),
        c.getStringList(PAPER_METHODS));
  }

  /** summary.md and the plots, published together. */
  private static void publish(BenchContext b, String started, double wall, Map<String, String> machine) {
    List<String> notes = new ArrayList<>();
    Map<String, byte[]> pngs = new LinkedHashMap<>();
    BenchResults r = b.results();
    for (String s : r.distinct(QualitySuite.IDENTIFICATION, null, BenchResults.Row::setting)) {
      draw(pngs, "identification-" + s + ".png", () -> BenchCharts.identification(r, s), notes);
    }
    for (String s : r.distinct(QualitySuite.REPAIR, null, BenchResults.Row::setting)) {
      draw(pngs, "tradeoff-" + s + ".png", () -> BenchCharts.tradeoff(r, s), notes);
    }
    for (String s : r.distinct(QualitySuite.FINETUNE_SWEEP, null, BenchResults.Row::setting)) {
      draw(pngs, "finetune-sweep-" + s + ".png", () -> BenchCharts.finetuneSweep(r, s), notes);
    }
    if (!r.select(QualitySuite.TIMING, null, row -> row.metric().equals("identify_wall_seconds")).isEmpty()) {
      draw(pngs, "timing.png", () -> BenchCharts.timing(r), notes);
    }
    if (!r.select(ScaleSuite.EXPERIMENT, null, row -> row.metric().equals("training_rows")).isEmpty()) {
      draw(pngs, "scale.png", () -> BenchCharts.scale(r), notes);
    }
    notes.forEach(n -> b.note("%s", n));
    String md = BenchSummary.markdown(b, facts(b, started, wall, machine), new ArrayList<>(pngs.keySet()),
        config(b));
    try (Workdir.Staging staging = b.output().stage("bench")) {
      pngs.forEach(staging::writeBytes);
      staging.writeBytes(SUMMARY, md.getBytes(StandardCharsets.UTF_8));
      staging.writeProvenance(SUMMARY, b.job().provenance("bench").put("suite", b.suite().cliName())
          .put("seeds", b.seeds()).put("plots", new ArrayList<>(pngs.keySet())).put("wall_seconds", wall)
          .put("machine", machine).toJson());
      staging.commit();
    }
  }

  private static void draw(Map<String, byte[]> pngs, String file, Supplier<JFreeChart> chart, List<String> notes) {
    byte[] png = ReportCharts.pngOrNull(file, chart, notes);
    if (png != null) {
      pngs.put(file, png);
    }
  }

  private static Map<String, String> facts(BenchContext b, String started, double wall,
      Map<String, String> machine) {
    Map<String, String> f = new LinkedHashMap<>();
    f.put("started", started);
    f.put("wall time", String.format(Locale.ROOT, "%.1f s", wall)
        + (b.earlierRuns().isEmpty() ? "" : " (this invocation only)"));
    if (!b.earlierRuns().isEmpty()) {
      f.put("resumed", String.format(Locale.ROOT, "the runs %s were measured by earlier invocations of the same"
          + " build and configuration (bench --resume); their rows are kept as they were", b.earlierRuns()));
    }
    f.put("machine", String.format(Locale.ROOT, "%d cores available to the JVM, %s %s (%s), max heap %d MB",
        Runtime.getRuntime().availableProcessors(), System.getProperty("os.name"), System.getProperty("os.arch"),
        System.getProperty("os.version"), Runtime.getRuntime().maxMemory() / (1024 * 1024)));
    f.put("processor", machine.get("processor"));
    f.put("JVM", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
    f.put("ND4J backend", Nd4j.getBackend().getClass().getSimpleName() + ", BLAS "
        + Nd4j.factory().blas().getBlasVendor() + " (kernels: " + GemmRate.openBlasKernels() + ")");
    f.put("Spark", b.spark().version() + ", master " + b.spark().sparkContext().master() + ", default parallelism "
        + b.spark().sparkContext().defaultParallelism());
    f.put("seeds", b.seeds().toString());
    f.put("peak memory of the bench JVM", PeakMemory.describe().replace("peak memory: ", ""));
    return f;
  }

  private static List<String> config(BenchContext b) {
    var a = b.job().args();
    StringBuilder cmd = new StringBuilder("lethe bench --suite " + b.suite().cliName() + " --workdir "
        + a.workdir());
    a.configFile().ifPresent(f -> cmd.append(" --config ").append(f));
    a.overrides().forEach(s -> cmd.append(" --set ").append(s));
    a.master().ifPresent(m -> cmd.append(" --master ").append(m));
    if (a.overwrite()) {
      cmd.append(" --overwrite");
    }
    if (a.resume()) {
      cmd.append(" --resume");
    }
    List<String> l = new ArrayList<>();
    l.add("Command: `" + cmd + "`");
    l.add("");
    l.addAll(b.configuration());
    l.add("Each run's configuration, lowest precedence first: reference.conf, the suite's setting layer, --config,"
        + " --set, then the run's own keys (seed, identify.method, repair.method, repair.ranking, the swept key)."
        + " The effective configuration of every stage run is in its provenance files under runs/.");
    l.add("");
    l.add("Bench stage configuration (reference.conf, --config, --set):");
    l.add("");
    l.add("```json");
    l.add(b.config().toJson());
    l.add("```");
    return l;
  }

  private static void delete(Workdir root, String rel) {
    try {
      root.fileSystem().delete(root.path(rel), true);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + root.path(rel), e);
    }
  }
}
