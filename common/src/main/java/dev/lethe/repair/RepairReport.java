package dev.lethe.repair;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigUtil;
import dev.lethe.LetheInputException;
import dev.lethe.repair.RepairEvaluation.Accuracies;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The schema of repair/&lt;method&gt;/report.json: written by the repair stage ({@link #toMap}, rendered as JSON)
 * and read back by the report and the benchmarks ({@link #of}). JSON has no NaN: a NaN accuracy (empty set) is
 * written as null and read back as NaN.
 *
 * @param method the repair
 * @param status {@link #ACCEPTED}, {@link #REJECTED} or {@link #UNCHANGED}
 * @param model the model file in repair/&lt;method&gt;/
 * @param modelFingerprint the repaired model's fingerprint
 * @param baseModelFingerprint theta_hat's fingerprint
 * @param rankingMethod the identification method whose ranking table was read
 * @param rankingTable that table, relative to the workdir
 * @param selection how C was chosen
 * @param corruption corrupted examples in D and in C, or null when the data carries no corruption flags
 * @param sizes the sizes of the test sets
 * @param before theta_hat's accuracies
 * @param after the written model's accuracies
 * @param maxBenchmarkDropPoints the guardrail's limit on B's accuracy drop, in points
 * @param chosen the chosen point (or, when rejected, the closest), or null when there was no candidate
 * @param frontier every candidate of the search
 * @param hyperparameters the repair's configuration section
 * @param seed the run's seed
 * @param distributed whether the repair trained across executors
 * @param seconds wall times
 * @param labelAlignment the culprits' label changes of a repair that relabels them ({@link Align}), or null
 */
public record RepairReport(String method, String status, String model, String modelFingerprint,
    String baseModelFingerprint, String rankingMethod, String rankingTable, SelectionSummary selection,
    CorruptionSummary corruption, Sizes sizes, Accuracies before, Accuracies after, double maxBenchmarkDropPoints,
    OperatingPoint chosen, List<OperatingPoint> frontier, Map<String, Object> hyperparameters, long seed,
    boolean distributed, Seconds seconds, LabelChanges labelAlignment) {

  /** A report of a repair that does not relabel. */
  public RepairReport(String method, String status, String model, String modelFingerprint,
      String baseModelFingerprint, String rankingMethod, String rankingTable, SelectionSummary selection,
      CorruptionSummary corruption, Sizes sizes, Accuracies before, Accuracies after, double maxBenchmarkDropPoints,
      OperatingPoint chosen, List<OperatingPoint> frontier, Map<String, Object> hyperparameters, long seed,
      boolean distributed, Seconds seconds) {
    this(method, status, model, modelFingerprint, baseModelFingerprint, rankingMethod, rankingTable, selection,
        corruption, sizes, before, after, maxBenchmarkDropPoints, chosen, frontier, hyperparameters, seed,
        distributed, seconds, null);
  }

  public static final String ACCEPTED = "accepted";
  public static final String REJECTED = "rejected";
  /** Nothing to repair (e.g. an empty C): the model written is theta_hat. */
  public static final String UNCHANGED = "unchanged";

  /**
   * @param policy the selection policy's configuration name
   * @param topK {@code repair.top-k}
   * @param topFraction {@code repair.top-fraction}
   * @param size |C|
   * @param trainSize |D|
   * @param positiveScores examples with r(z) > 0 in the ranking
   */
  public record SelectionSummary(String policy, int topK, double topFraction, int size, int trainSize,
      long positiveScores) {}

  /**
   * @param inTrain corrupted examples in D
   * @param inSelection corrupted examples in C
   */
  public record CorruptionSummary(int inTrain, int inSelection) {
    /** The share of C that is corrupted (NaN for an empty C). */
    public double precision(int selected) {
      return selected == 0 ? Double.NaN : (double) inSelection / selected;
    }

    public double recall() {
      return inTrain == 0 ? Double.NaN : (double) inSelection / inTrain;
    }
  }

  /**
   * One relabelled culprit.
   *
   * @param id its training id
   * @param from its label in D
   * @param to its aligned label
   * @param original its original (pre-corruption) label
   * @param corrupted whether its row carries a corruption flag
   * @param energyGap E(x, from) - E(x, to) = log p(to | x) - log p(from | x) under the energy model, in nats: by how
   *     much the model prefers the new label (what {@code repair.align.min-energy-gap} thresholds)
   */
  public record LabelChange(long id, int from, int to, int original, boolean corrupted, double energyGap) {}

  /**
   * The label changes of an alignment.
   *
   * @param culprits |C|
   * @param changed culprits whose label changed
   * @param restoredOriginal changed labels that now equal the original (pre-corruption) label: with corruption
   *     flags, restoredOriginal / changed is the precision of the label corrections
   * @param inputsMoved culprits whose input the alignment moved
   * @param held culprits whose label the model disputes by less than {@code repair.align.min-energy-gap}, so it was
   *     kept
   * @param dropped culprits removed from D because they were not relabelled ({@code repair.align.unaligned = drop})
   * @param corruptionFlags whether the data carries corruption flags
   * @param changes every change, in C's order
   * @param energyModel the model whose energy aligned the labels ({@code repair.align.energy-model}: base or
   *     retrained)
   * @param energyModelEpochs epochs of its training from scratch on D \ C (0 for base)
   * @param energyModelSeconds wall time of that training (0 for base)
   */
  public record LabelChanges(int culprits, int changed, int restoredOriginal, int inputsMoved, int held, int dropped,
      boolean corruptionFlags, List<LabelChange> changes, String energyModel, int energyModelEpochs,
      double energyModelSeconds) {
    /** restoredOriginal / changed (NaN when nothing changed). */
    public double restoredShare() {
      return changed == 0 ? Double.NaN : (double) restoredOriginal / changed;
    }
  }

  /** Test set sizes: Fq, B, Fh, the T\F holdout and the whole test set. */
  public record Sizes(int query, int benchmark, int holdout, int correctHoldout, int test) {}

  /**
   * @param read reading and checking the inputs
   * @param search the operating-point search (every setting's path)
   * @param evaluation evaluating theta_hat
   * @param total the stage
   */
  public record Seconds(double read, double search, double evaluation, double total) {}

  /** The B accuracy drop of the written model, in points. */
  public double benchmarkDropPoints() {
    return RepairEvaluation.Guardrail.dropPoints(before, after);
  }

  public boolean rejected() {
    return REJECTED.equals(status);
  }

  /** The document, as maps, lists and plain values (rendered as JSON by the caller). */
  public Map<String, Object> toMap() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("method", method);
    m.put("status", status);
    m.put("model", model);
    m.put("model_fingerprint", modelFingerprint);
    m.put("base_model_fingerprint", baseModelFingerprint);
    m.put("ranking", Map.of("method", rankingMethod, "table", rankingTable));
    Map<String, Object> sel = new LinkedHashMap<>();
    sel.put("policy", selection.policy());
    sel.put("top_k", selection.topK());
    sel.put("top_fraction", selection.topFraction());
    sel.put("size", selection.size());
    sel.put("train_size", selection.trainSize());
    sel.put("positive_scores", selection.positiveScores());
    m.put("selection", sel);
    if (corruption != null) {
      Map<String, Object> corr = new LinkedHashMap<>();
      corr.put("in_train", corruption.inTrain());
      corr.put("in_selection", corruption.inSelection());
      corr.put("precision", corruption.precision(selection.size()));
      corr.put("recall", corruption.recall());
      m.put("corruption", corr);
    } else {
      m.put("corruption", null);
    }
    m.put("sizes", Map.of("query", sizes.query(), "benchmark", sizes.benchmark(), "holdout", sizes.holdout(),
        "correct_holdout", sizes.correctHoldout(), "test", sizes.test()));
    m.put("before", accuracies(before));
    m.put("after", accuracies(after));
    Map<String, Object> bench = new LinkedHashMap<>();
    bench.put("before", before.benchmark());
    bench.put("after", after.benchmark());
    bench.put("drop_points", benchmarkDropPoints());
    m.put("benchmark", bench);
    Map<String, Object> guard = new LinkedHashMap<>();
    guard.put("max_benchmark_drop_points", maxBenchmarkDropPoints);
    guard.put("verdict", rejected() ? REJECTED : ACCEPTED);
    m.put("guardrail", guard);
    m.put("chosen", chosen == null ? null : point(chosen));
    m.put("frontier", frontier.stream().map(RepairReport::point).toList());
    m.put("hyperparameters", hyperparameters);
    m.put("seed", seed);
    m.put("distributed", distributed);
    Map<String, Object> sec = new LinkedHashMap<>();
    sec.put("read", seconds.read());
    sec.put("search", seconds.search());
    sec.put("evaluation", seconds.evaluation());
    sec.put("total", seconds.total());
    m.put("seconds", sec);
    if (labelAlignment != null) {
      Map<String, Object> a = new LinkedHashMap<>();
      a.put("energy_model", labelAlignment.energyModel());
      a.put("energy_model_epochs", labelAlignment.energyModelEpochs());
      a.put("energy_model_seconds", labelAlignment.energyModelSeconds());
      a.put("culprits", labelAlignment.culprits());
      a.put("changed", labelAlignment.changed());
      a.put("restored_original", labelAlignment.restoredOriginal());
      a.put("restored_share", labelAlignment.corruptionFlags() ? labelAlignment.restoredShare() : null);
      a.put("inputs_moved", labelAlignment.inputsMoved());
      a.put("held", labelAlignment.held());
      a.put("dropped", labelAlignment.dropped());
      a.put("corruption_flags", labelAlignment.corruptionFlags());
      a.put("changes", labelAlignment.changes().stream().map(c -> {
        Map<String, Object> x = new LinkedHashMap<>();
        x.put("id", c.id());
        x.put("from", c.from());
        x.put("to", c.to());
        x.put("original", c.original());
        x.put("corrupted", c.corrupted());
        x.put("energy_gap", c.energyGap());
        return x;
      }).toList());
      m.put("label_alignment", a);
    }
    return m;
  }

  private static LabelChanges labelChanges(Config a) {
    List<LabelChange> changes = new ArrayList<>();
    for (Config c : a.getConfigList("changes")) {
      changes.add(new LabelChange(c.getLong("id"), c.getInt("from"), c.getInt("to"), c.getInt("original"),
          c.getBoolean("corrupted"), c.hasPath("energy_gap") ? c.getDouble("energy_gap") : Double.NaN));
    }
    return new LabelChanges(a.getInt("culprits"), a.getInt("changed"), a.getInt("restored_original"),
        a.getInt("inputs_moved"), a.getInt("held"), a.getInt("dropped"), a.getBoolean("corruption_flags"), changes,
        // reports written before repair.align.energy-model existed aligned with theta_hat
        a.hasPath("energy_model") ? a.getString("energy_model") : AlignOptions.BASE,
        a.hasPath("energy_model_epochs") ? a.getInt("energy_model_epochs") : 0,
        a.hasPath("energy_model_seconds") ? a.getDouble("energy_model_seconds") : 0);
  }

  /** Reads a parsed report.json; a missing or mistyped field is bad input naming {@code source}. */
  public static RepairReport of(Config r, String source) {
    try {
      CorruptionSummary corruption = r.hasPath("corruption")
          ? new CorruptionSummary(r.getInt("corruption.in_train"), r.getInt("corruption.in_selection")) : null;
      List<OperatingPoint> frontier = new ArrayList<>();
      for (Config p : r.getConfigList("frontier")) {
        frontier.add(point(p, source));
      }
      Map<String, Object> hyper = new LinkedHashMap<>(r.getConfig("hyperparameters").root().unwrapped());
      return new RepairReport(r.getString("method"), r.getString("status"), r.getString("model"),
          r.getString("model_fingerprint"), r.getString("base_model_fingerprint"), r.getString("ranking.method"),
          r.getString("ranking.table"),
          new SelectionSummary(r.getString("selection.policy"), r.getInt("selection.top_k"),
              r.getDouble("selection.top_fraction"), r.getInt("selection.size"), r.getInt("selection.train_size"),
              r.getLong("selection.positive_scores")),
          corruption,
          new Sizes(r.getInt("sizes.query"), r.getInt("sizes.benchmark"), r.getInt("sizes.holdout"),
              r.getInt("sizes.correct_holdout"), r.getInt("sizes.test")),
          accuracies(r.getConfig("before"), source, "before"), accuracies(r.getConfig("after"), source, "after"),
          r.getDouble("guardrail.max_benchmark_drop_points"),
          r.hasPath("chosen") ? point(r.getConfig("chosen"), source) : null, frontier, hyper, r.getLong("seed"),
          r.getBoolean("distributed"),
          new Seconds(r.getDouble("seconds.read"), r.getDouble("seconds.search"), r.getDouble("seconds.evaluation"),
              r.getDouble("seconds.total")),
          r.hasPath("label_alignment") ? labelChanges(r.getConfig("label_alignment")) : null);
    } catch (ConfigException e) {
      throw new LetheInputException(source + ": not a repair report: " + e.getMessage(), e);
    }
  }

  private static final String[] SETS = {"query", "benchmark", "holdout", "correct_holdout", "test", "query_logp"};

  private static Map<String, Object> accuracies(Accuracies a) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("query", a.query());
    m.put("benchmark", a.benchmark());
    m.put("holdout", a.holdout());
    m.put("correct_holdout", a.correctHoldout());
    m.put("test", a.test());
    m.put("query_logp", a.queryLogp());
    return m;
  }

  private static Accuracies accuracies(Config c, String source, String where) {
    double[] v = new double[SETS.length];
    for (int i = 0; i < SETS.length; i++) {
      if (!c.hasPathOrNull(SETS[i])) {
        throw LetheInputException.of("%s: not a repair report: missing field '%s.%s'", source, where, SETS[i]);
      }
      v[i] = c.getIsNull(SETS[i]) ? Double.NaN : c.getDouble(SETS[i]);
    }
    return new Accuracies(v[0], v[1], v[2], v[3], v[4], v[5]);
  }

  private static Map<String, Object> point(OperatingPoint p) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("setting", p.setting());
    m.put("step", p.step());
    m.put("knobs", new LinkedHashMap<>(p.knobs().asMap()));
    m.putAll(accuracies(p.accuracies()));
    return m;
  }

  /** A point as written by {@link #point(OperatingPoint)}; its knobs come back in name order (JSON has none). */
  private static OperatingPoint point(Config c, String source) {
    Config k = c.getConfig("knobs");
    List<String> names = new ArrayList<>(k.root().keySet());
    java.util.Collections.sort(names);
    List<Double> values = new ArrayList<>();
    for (String name : names) {
      values.add(k.getDouble(ConfigUtil.quoteString(name)));
    }
    Knobs knobs = new Knobs(names.toArray(String[]::new), values.stream().mapToDouble(Double::doubleValue).toArray());
    return new OperatingPoint(c.getInt("setting"), c.getInt("step"), knobs,
        accuracies(c, source, "frontier point"));
  }
}
