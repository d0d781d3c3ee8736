package dev.lethe.influence;

import dev.lethe.config.LetheConfig;
import dev.lethe.config.Options;
import java.util.Locale;

/**
 * Options of {@link PumaInfluence} (keys under {@code lethe.identify.puma}; the curvature, damping and solver
 * settings are {@code identify.linear}'s).
 *
 * @param metric the performance metric C whose change is attributed: {@link #QUERY_LOSS}, {@link #BENCHMARK_ACCURACY},
 *     {@link #CLASS_RECALL} (with {@code recallClass}) or {@link #CALIBRATION}
 * @param recallClass K of class-recall:K, in [0, numClasses); -1 for the other metrics
 * @param calibrationSet the examples the calibration metric is measured on: {@link #QUERY}, {@link #BENCHMARK} or
 *     {@link #QUERY_AND_BENCHMARK}
 * @param calibrationBins equal-width confidence bins of the expected calibration error (>= 1)
 * @param solver {@link #CG} or {@link #LISSA}
 */
public record PumaOptions(String metric, int recallClass, String calibrationSet, int calibrationBins,
    String solver) {
  public static final String QUERY_LOSS = "query-loss";
  public static final String BENCHMARK_ACCURACY = "benchmark-accuracy";
  public static final String CLASS_RECALL = "class-recall";
  public static final String CALIBRATION = "calibration";
  public static final String QUERY = "query";
  public static final String BENCHMARK = "benchmark";
  public static final String QUERY_AND_BENCHMARK = "query-and-benchmark";
  public static final String CG = "cg";
  public static final String LISSA = "lissa";

  static final String METRIC_KEY = "identify.puma.metric";
  static final String SET_KEY = "identify.puma.calibration-set";

  public PumaOptions {
    if (!java.util.List.of(QUERY_LOSS, BENCHMARK_ACCURACY, CLASS_RECALL, CALIBRATION).contains(metric)) {
      throw new IllegalArgumentException(METRIC_KEY + ": unknown metric '" + metric + "' (known: query-loss,"
          + " benchmark-accuracy, class-recall:K, calibration)");
    }
    if (CLASS_RECALL.equals(metric) != recallClass >= 0) {
      throw new IllegalArgumentException(METRIC_KEY + ": class-recall needs a class K >= 0 (class-recall:K), got "
          + recallClass);
    }
    if (!java.util.List.of(QUERY, BENCHMARK, QUERY_AND_BENCHMARK).contains(calibrationSet)) {
      throw new IllegalArgumentException(SET_KEY + ": unknown set '" + calibrationSet + "' (known: query, benchmark,"
          + " query-and-benchmark)");
    }
    if (calibrationBins < 1) {
      throw new IllegalArgumentException("identify.puma.calibration-bins: must be >= 1, got " + calibrationBins);
    }
    if (!CG.equals(solver) && !LISSA.equals(solver)) {
      throw new IllegalArgumentException("identify.puma.solver: unknown solver '" + solver + "' (known: cg, lissa)");
    }
  }

  /** The defaults of conf/reference.conf. */
  public static PumaOptions defaults() {
    return from(LetheConfig.defaults());
  }

  /** These options with another solver. */
  public PumaOptions withSolver(String s) {
    return new PumaOptions(metric, recallClass, calibrationSet, calibrationBins, s);
  }

  /** These options with the metric named as in {@code identify.puma.metric}, for {@code numClasses} classes. */
  public PumaOptions withMetric(String name, int numClasses) {
    String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
    int k = -1;
    String m = n;
    if (n.startsWith(CLASS_RECALL + ":")) {
      m = CLASS_RECALL;
      String digits = n.substring(CLASS_RECALL.length() + 1).trim();
      try {
        k = Integer.parseInt(digits);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(METRIC_KEY + ": class-recall:K needs an integer class K, got '" + name
            + "'");
      }
      if (k < 0 || k >= numClasses) {
        throw new IllegalArgumentException(METRIC_KEY + ": class K = " + k + " of '" + name + "' is out of range [0, "
            + numClasses + ")");
      }
    } else if (CLASS_RECALL.equals(n)) {
      throw new IllegalArgumentException(METRIC_KEY + ": class-recall needs its class, as class-recall:K");
    }
    return new PumaOptions(m, k, calibrationSet, calibrationBins, solver);
  }

  /**
   * From {@code identify.puma.*} and {@code data.num-classes}.
   *
   * @throws dev.lethe.LetheInputException naming the bad key
   */
  public static PumaOptions from(LetheConfig c) {
    int numClasses = c.positiveInt("data.num-classes");
    return Options.valid(() -> new PumaOptions(QUERY_LOSS, -1,
        c.getString(SET_KEY).trim().toLowerCase(Locale.ROOT), c.getInt("identify.puma.calibration-bins"),
        c.getString("identify.puma.solver").trim().toLowerCase(Locale.ROOT))
        .withMetric(c.getString(METRIC_KEY), numClasses));
  }

  /** The metric as written in configuration (class-recall:K with its class). */
  public String metricName() {
    return CLASS_RECALL.equals(metric) ? CLASS_RECALL + ":" + recallClass : metric;
  }
}
