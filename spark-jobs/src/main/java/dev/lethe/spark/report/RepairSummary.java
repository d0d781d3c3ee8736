package dev.lethe.spark.report;

import com.typesafe.config.Config;
import dev.lethe.repair.RepairEvaluation.Accuracies;
import dev.lethe.repair.RepairReport;

/**
 * One repair as the report shows it: a view of its repair/&lt;method&gt;/report.json ({@link RepairReport}, the
 * one schema), with the accuracies as arrays indexed by {@link #SETS}.
 *
 * @param report the parsed report
 */
public record RepairSummary(RepairReport report) {
  /** The sets, in the order of {@link #before()} and {@link #after()}. */
  public static final String[] SETS = {"query", "benchmark", "holdout", "correct_holdout", "test"};
  public static final int QUERY = 0;
  public static final int BENCHMARK = 1;
  public static final int HOLDOUT = 2;
  public static final int CORRECT_HOLDOUT = 3;
  public static final int TEST = 4;

  /** Reads a parsed report.json; a missing or mistyped field is bad input naming {@code source}. */
  public static RepairSummary of(Config r, String source) {
    return new RepairSummary(RepairReport.of(r, source));
  }

  public String method() {
    return report.method();
  }

  public String status() {
    return report.status();
  }

  public boolean rejected() {
    return report.rejected();
  }

  /** The identification method whose ranking table the repair read. */
  public String ranking() {
    return report.rankingMethod();
  }

  public String policy() {
    return report.selection().policy();
  }

  /** |C|. */
  public int selected() {
    return report.selection().size();
  }

  /** Corrupted examples in C, -1 when the data carries no corruption flags. */
  public int corruptedSelected() {
    return report.corruption() == null ? -1 : report.corruption().inSelection();
  }

  public double[] before() {
    return array(report.before());
  }

  public double[] after() {
    return array(report.after());
  }

  /** The chosen point's knobs in words, or "-" when there was no candidate. */
  public String chosen() {
    return report.chosen() == null ? "-" : report.chosen().knobs().toString();
  }

  /** T\F holdout change in percentage points (negative = a drop). */
  public double correctHoldoutChangePoints() {
    return 100 * (report.after().correctHoldout() - report.before().correctHoldout());
  }

  /** B change in percentage points (negative = a drop). */
  public double benchmarkChangePoints() {
    return -report.benchmarkDropPoints();
  }

  public double maxBenchmarkDrop() {
    return report.maxBenchmarkDropPoints();
  }

  public double searchSeconds() {
    return report.seconds().search();
  }

  public double totalSeconds() {
    return report.seconds().total();
  }

  public String model() {
    return report.model();
  }

  private static double[] array(Accuracies a) {
    return new double[] {a.query(), a.benchmark(), a.holdout(), a.correctHoldout(), a.test()};
  }
}
