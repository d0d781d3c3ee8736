package dev.lethe.bench;

import dev.lethe.config.LetheConfig;
import dev.lethe.spark.JobContext;
import dev.lethe.spark.Stage;
import dev.lethe.spark.StageRunner;
import dev.lethe.spark.cli.Console;
import dev.lethe.spark.exec.PeakMemory;
import dev.lethe.spark.io.Workdir;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.spark.sql.SparkSession;

/**
 * What a benchmark suite works with: its output directory ({@code <root>/<suite>/}), the bench stage's
 * configuration and seeds, the Spark session and console, a sink for measurements (results.csv) and notes
 * (summary.md), and a way to run any stage body in this JVM on a run's own workdir with a run's configuration,
 * timed.
 *
 * <p>Configuration of a run, lowest precedence first: reference.conf, the suite's setting layers, the user's
 * {@code --config} file, the user's {@code --set} overrides, the run's own overrides (seed, method, swept key).
 * So a user can shrink a suite ({@code --set data.train-size=400}) but not undo what a run varies.
 */
public final class BenchContext {
  /** Where the experiment runs' workdirs go, inside the output directory. */
  public static final String RUNS = "runs";
  private static final long MB = 1024L * 1024L;

  private final JobContext job;
  private final BenchSuite suite;
  private final Workdir output;
  private final List<Long> seeds;
  private final BenchResults results;
  private final List<String> notes = new ArrayList<>();
  private final List<String> sections = new ArrayList<>();
  private final List<String> configuration = new ArrayList<>();
  private final List<LetheConfig.Source> userLayers = new ArrayList<>();
  private final Set<String> earlierRuns;

  /**
   * @param earlierRuns the runs ("setting/seed", {@link BenchState#key}) an earlier invocation completed, whose rows
   *     {@code results} already holds ({@code bench --resume}); empty otherwise
   */
  BenchContext(JobContext job, BenchSuite suite, Workdir output, List<Long> seeds, BenchResults results,
      Set<String> earlierRuns) {
    this.job = job;
    this.suite = suite;
    this.output = output;
    this.seeds = List.copyOf(seeds);
    this.results = results;
    this.earlierRuns = Set.copyOf(earlierRuns);
    job.args().configFile().ifPresent(f -> userLayers.add(StageRunner.configFile(f,
        job.spark().sparkContext().hadoopConfiguration())));
  }

  public BenchSuite suite() {
    return suite;
  }

  /** The suite's output directory {@code <root>/<suite>/} (outputs under it are replaced when republished). */
  public Workdir output() {
    return output;
  }

  /** The bench stage's own configuration: reference.conf, {@code --config}, {@code --set}. */
  public LetheConfig config() {
    return job.config();
  }

  /** The seeds every setting runs with (the value of config key {@code seed} for each run). */
  public List<Long> seeds() {
    return seeds;
  }

  /** Whether an earlier invocation completed this run (it is kept, not run again: {@code --resume}). */
  public boolean completedEarlier(String setting, long seed) {
    return earlierRuns.contains(BenchState.key(setting, seed));
  }

  /** The runs ("setting/seed") kept from earlier invocations. */
  public Set<String> earlierRuns() {
    return earlierRuns;
  }

  /** Marks a run complete in results.csv, so that {@code --resume} keeps it. */
  public void recordComplete(String setting, long seed) {
    record(BenchState.RUN, setting, seed, BenchState.SUITE_METHOD, BenchState.COMPLETE, 1, "flag");
  }

  /** The bench stage's context (its workdir is the output root). */
  public JobContext job() {
    return job;
  }

  public SparkSession spark() {
    return job.spark();
  }

  public Console console() {
    return job.console();
  }

  public BenchResults results() {
    return results;
  }

  /** Records one measurement: a row of results.csv (written at once) and of the summary. */
  public void record(String experiment, String setting, long seed, String method, String metric, double value,
      String unit) {
    results.add(experiment, setting, seed, method, metric, value, unit);
  }

  /** A remark for summary.md (and the console): a skipped setting, a failed step. */
  public void note(String format, Object... args) {
    String n = String.format(java.util.Locale.ROOT, format, args);
    notes.add(n);
    console().line("bench: note: %s", n);
  }

  public List<String> notes() {
    return List.copyOf(notes);
  }

  /** A markdown section a suite writes itself (a heading and its text), for summary.md. */
  public void addSection(String markdown) {
    sections.add(markdown);
  }

  public List<String> sections() {
    return List.copyOf(sections);
  }

  /** A line for summary.md's configuration section (e.g. a setting's config layer). */
  public void describeConfiguration(String line) {
    configuration.add(line);
  }

  public List<String> configuration() {
    return List.copyOf(configuration);
  }

  /** Records this JVM's peak memory so far (resident high-water mark where reported, heap pools' peak), in MB. */
  public void recordPeakMemory(String setting, long seed, String method) {
    PeakMemory.residentBytes().ifPresent(b -> record(BenchSummary.MEMORY, setting, seed, method, "peak_resident_mb",
        b / MB, "MB"));
    record(BenchSummary.MEMORY, setting, seed, method, "peak_heap_mb", PeakMemory.heapBytes() / MB, "MB");
  }

  /** The workdir of one experiment run, {@code <root>/<suite>/runs/<name>/}; its outputs are replaced on rerun. */
  public Workdir runWorkdir(String name) {
    return Workdir.open(output.path(RUNS + "/" + name).toString(), spark().sparkContext().hadoopConfiguration(),
        true);
  }

  /**
   * A run's configuration: {@code settingLayers} under the user's {@code --config} and {@code --set}, and
   * {@code runOverrides} ({@code key=value}) over everything.
   */
  public LetheConfig runConfig(List<LetheConfig.Source> settingLayers, List<String> runOverrides) {
    List<LetheConfig.Source> layers = new ArrayList<>(settingLayers);
    layers.addAll(userLayers);
    List<String> overrides = new ArrayList<>(job.args().overrides());
    overrides.addAll(runOverrides);
    return LetheConfig.load(layers, overrides);
  }

  /** The context a stage body gets on a run's workdir with a run's configuration. */
  public JobContext stageContext(Workdir run, Stage stage, LetheConfig config) {
    return new JobContext(spark(), config, run, job.args().withWorkdir(run.root().toString(), true)
        .withStage(stage.cliName()), console());
  }

  /** Runs {@code stage}'s body on {@code run} with {@code config}, in this JVM; returns its wall time in seconds. */
  public double runStage(Workdir run, Stage stage, LetheConfig config) throws Exception {
    long t0 = System.nanoTime();
    stage.run(stageContext(run, stage, config));
    return (System.nanoTime() - t0) / 1e9;
  }
}
