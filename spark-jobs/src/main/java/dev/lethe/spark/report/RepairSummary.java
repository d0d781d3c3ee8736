package dev.lethe.spark.report;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import dev.lethe.LetheInputException;
import dev.lethe.spark.io.Json;

/**
 * One repair as its repair/&lt;method&gt;/report.json tells it (the fields the report shows).
 *
 * @param method the treatment
 * @param status accepted, rejected or unchanged
 * @param culprits the identification method whose table it used
 * @param policy the selection policy
 * @param selected |C|
 * @param corruptedSelected corrupted examples in C, -1 when the data carries no corruption flags
 * @param before accuracies of theta_hat on Fq, Fh, T\F, T (NaN for an empty set)
 * @param after accuracies of the repaired model, same order
 * @param maxRemainingDrop the guardrail's limit in points
 * @param treatmentSeconds the treatment's wall time
 * @param totalSeconds the repair stage's wall time
 * @param model the model file name in repair/&lt;method&gt;/
 */
public record RepairSummary(String method, String status, String culprits, String policy, long selected,
    long corruptedSelected, double[] before, double[] after, double maxRemainingDrop, double treatmentSeconds,
    double totalSeconds, String model) {
  static final String[] SETS = {"query", "holdout", "remaining", "test"};
  public static final int QUERY = 0;
  public static final int HOLDOUT = 1;
  public static final int REMAINING = 2;
  public static final int TEST = 3;

  /** T\F change in percentage points (negative = a drop). */
  public double remainingChangePoints() {
    return 100 * (after[REMAINING] - before[REMAINING]);
  }

  public boolean rejected() {
    return "rejected".equals(status);
  }

  /** Reads a parsed report.json; a missing or mistyped field is bad input naming {@code source}. */
  public static RepairSummary of(Config r, String source) {
    try {
      double[] before = new double[SETS.length];
      double[] after = new double[SETS.length];
      for (int i = 0; i < SETS.length; i++) {
        requirePresent(r, "before." + SETS[i], source);
        requirePresent(r, "after." + SETS[i], source);
        before[i] = Json.number(r, "before." + SETS[i]);
        after[i] = Json.number(r, "after." + SETS[i]);
      }
      long corrupted = r.hasPath("corruption.in_selection") ? r.getLong("corruption.in_selection") : -1;
      return new RepairSummary(r.getString("method"), r.getString("status"), r.getString("culprits.method"),
          r.getString("selection.policy"), r.getLong("selection.size"), corrupted, before, after,
          r.getDouble("guardrail.max_remaining_drop_points"), r.getDouble("seconds.treatment"),
          r.getDouble("seconds.total"), r.getString("model"));
    } catch (ConfigException e) {
      throw new LetheInputException(source + ": not a repair report: " + e.getMessage(), e);
    }
  }

  private static void requirePresent(Config r, String path, String source) {
    if (!r.hasPathOrNull(path)) {
      throw LetheInputException.of("%s: not a repair report: missing field '%s'", source, path);
    }
  }
}
