package dev.lethe.spark;

import dev.lethe.spark.cli.Console;
import dev.lethe.spark.io.WorkdirLayout;
import dev.lethe.repair.RepairEvaluation.Accuracies;
import dev.lethe.repair.RepairReport;
import java.util.Locale;

/** What the repair stage prints: a WARNING when it found no point within the guardrail, then one summary line. */
final class RepairConsole {
  private RepairConsole() {}

  /**
   * @param where the output directory
   * @param selection the selection in words ("top 15%")
   */
  static void print(Console console, RepairReport r, String where, String selection) {
    Accuracies b = r.before();
    Accuracies a = r.after();
    String chosen = r.chosen() == null ? "nothing to repair" : r.chosen().knobs().toString();
    if (r.rejected()) {
      console.line("repair: WARNING: %s REJECTED by the guardrail: none of its %d candidates fixes a failure of Fq"
          + " while losing at most repair.max-benchmark-drop = %s points on B; the closest (%s: Fq %s, B %+.2f"
          + " points) is written as %s/%s, not %s", r.method(), r.frontier().size(),
          plain(r.maxBenchmarkDropPoints()), chosen, percent(a.query()), -r.benchmarkDropPoints(), where,
          WorkdirLayout.REJECTED_MODEL, WorkdirLayout.REPAIRED_MODEL);
    }
    if (RepairReport.UNCHANGED.equals(r.status())) {
      console.line("repair: WARNING: %s had nothing to repair (an empty culprit set or query set): %s/%s is theta_hat",
          r.method(), where, WorkdirLayout.REPAIRED_MODEL);
    }
    String corruption = r.corruption() == null ? ""
        : String.format(Locale.ROOT, ", %d of them corrupted (of %d in D)", r.corruption().inSelection(),
            r.corruption().inTrain());
    console.line("repair: %s on %d culprits (%s of %s%s): %s of %d candidates: Fq %s, B %s (%+.2f points, limit"
        + " %s), Fh %s, T\\F holdout %s (%+.2f points), test %s; %s; search %.1f s, total %.1f s -> %s/%s",
        r.method(), r.selection().size(), selection, r.rankingTable(), corruption, chosen, r.frontier().size(),
        change(b.query(), a.query()), change(b.benchmark(), a.benchmark()), -r.benchmarkDropPoints(),
        plain(r.maxBenchmarkDropPoints()), change(b.holdout(), a.holdout()), change(b.correctHoldout(), a.correctHoldout()),
        100 * (a.correctHoldout() - b.correctHoldout()), change(b.test(), a.test()), r.status().toUpperCase(Locale.ROOT),
        r.seconds().search(), r.seconds().total(), where, r.model());
  }

  private static String change(double before, double after) {
    return percent(before) + " -> " + percent(after);
  }

  static String percent(double v) {
    return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.1f%%", 100 * v);
  }

  private static String plain(double v) {
    return Console.plain(v);
  }
}
