package dev.lethe.spark.report;

import dev.lethe.data.Corruption;
import dev.lethe.influence.IdentificationCurve;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The report's text: report/index.html (self-contained: inline style, the PNGs next to it), the content of
 * report/summary.json, and the summary table printed on the console.
 *
 * @param workdir the workdir shown in the header
 * @param generated when (ISO-8601)
 * @param curves identification rankings (possibly none)
 * @param repairs repair reports (possibly none)
 * @param identificationPng the identification plot's file name, or null when not drawn
 * @param tradeoffPng the trade-off plot's file name, or null when not drawn
 * @param notes what is missing or could not be drawn, said on the page and in summary.json
 * @param corruptions the kinds of corruption in the training set (each with the direction that counts as success)
 */
public record ReportPage(String workdir, String generated, List<IdentificationCurve> curves,
    List<RepairSummary> repairs, String identificationPng, String tradeoffPng, List<String> notes,
    List<Corruption> corruptions) {

  /** A page without corruption kinds. */
  public ReportPage(String workdir, String generated, List<IdentificationCurve> curves, List<RepairSummary> repairs,
      String identificationPng, String tradeoffPng, List<String> notes) {
    this(workdir, generated, curves, repairs, identificationPng, tradeoffPng, notes, List.of());
  }

  /** One sentence per corruption kind: which direction of its share at the top counts as success. */
  public List<String> successDirections() {
    return corruptions.stream().filter(c -> c.success() != null).map(Corruption::successSentence).toList();
  }

  public String html() {
    StringBuilder h = new StringBuilder(16 * 1024);
    h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Lethe report</title>\n")
        .append("<style>\n")
        .append("body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:1100px;")
        .append("color:#222;line-height:1.45}\n")
        .append("table{border-collapse:collapse;margin:1em 0;font-size:14px}\n")
        .append("th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}\n")
        .append("th{background:#f3f3f3}td.l,th.l{text-align:left}\n")
        .append("tr.rejected td{background:#fde8ea;color:#900}tr.unchanged td{color:#777}\n")
        .append(".note{background:#fff8e1;border-left:4px solid #f0b400;padding:.5em 1em;margin:1em 0}\n")
        .append("img{max-width:100%;border:1px solid #ddd}\ncode{background:#f3f3f3;padding:0 3px}\n")
        .append("</style>\n</head>\n<body>\n<h1>Lethe report</h1>\n");
    h.append("<p>Workdir <code>").append(esc(workdir)).append("</code>, generated ").append(esc(generated))
        .append(". Method: Tanno et al. 2022, <i>Repairing Neural Networks by Leaving the Right Past Behind</i>.")
        .append("</p>\n");
    for (String n : notes) {
      h.append("<p class=\"note\">").append(esc(n)).append("</p>\n");
    }

    h.append("<h2>Identification: which training examples caused the failures</h2>\n");
    if (curves.isEmpty()) {
      h.append("<p>No ranking table (<code>rankings/*.parquet</code>): run <code>lethe identify</code>.</p>\n");
    } else {
      if (identificationPng != null) {
        h.append("<p>Inspecting the training set in rank order (most harmful first), the fraction of the corrupted"
            + " examples found; a random ranking follows the diagonal.</p>\n");
        h.append("<img src=\"").append(esc(identificationPng))
            .append("\" alt=\"fraction of corrupted training examples found vs fraction inspected\">\n");
      }
      if (!successDirections().isEmpty()) {
        h.append("<p>Which direction counts as success, per kind of corruption in the training set:</p>\n<ul>\n");
        successDirections().forEach(d -> h.append("<li>").append(esc(d)).append("</li>\n"));
        h.append("</ul>\n");
      }
      h.append("<table>\n<tr><th class=\"l\">method</th><th>ranked examples</th><th>corrupted</th>");
      for (double f : IdentificationCurve.INSPECTED) {
        h.append("<th>found in ").append(IdentificationCurve.label(f)).append("</th>");
      }
      h.append("<th>area under curve</th><th>seconds</th></tr>\n");
      for (IdentificationCurve c : curves) {
        h.append("<tr><td class=\"l\">").append(esc(c.method())).append("</td><td>").append(c.rows())
            .append("</td><td>").append(c.corrupted()).append("</td>");
        for (double f : IdentificationCurve.INSPECTED) {
          h.append("<td>").append(pct(c.foundAt(f))).append("</td>");
        }
        h.append("<td>").append(num(c.areaUnderCurve(), 3)).append("</td><td>").append(num(c.seconds(), 1))
            .append("</td></tr>\n");
      }
      h.append("</table>\n");
    }

    h.append("<h2>Repair: before and after</h2>\n");
    if (repairs.isEmpty()) {
      h.append("<p>No repair ran (no <code>repair/*/report.json</code>): run <code>lethe repair --method M</code>."
          + "</p>\n");
    } else {
      if (tradeoffPng != null) {
        h.append("<p>Every candidate of each repair's operating-point search (small dots) and the point it"
            + " chose (large dots), at their accuracy on the held-out failures Fh (does the fix generalise?) and on"
            + " the T\\F holdout (correctly classified test examples: did the repair break them?). The search"
            + " read neither: it chose on Fq and the benchmark cases B.</p>\n");
        h.append("<img src=\"").append(esc(tradeoffPng))
            .append("\" alt=\"accuracy on Fh vs accuracy on the T\\F holdout for each repair\">\n");
      }
      h.append("<table>\n<tr><th class=\"l\">method</th><th class=\"l\">ranking</th><th class=\"l\">selection</th>"
          + "<th>|C|</th><th>corrupted in C</th><th class=\"l\">chosen point</th><th>candidates</th><th>Fq</th>"
          + "<th>B</th><th>Fh</th><th>T\\F holdout</th><th>test</th><th>B change (points)</th>"
          + "<th>T\\F holdout change (points)</th><th class=\"l\">status</th><th>search s</th><th>total s</th>"
          + "<th class=\"l\">model</th></tr>\n");
      for (RepairSummary s : repairs) {
        h.append("<tr class=\"").append(esc(s.status())).append("\"><td class=\"l\">").append(esc(s.method()))
            .append("</td><td class=\"l\">").append(esc(s.ranking())).append("</td><td class=\"l\">")
            .append(esc(s.policy())).append("</td><td>").append(s.selected()).append("</td><td>")
            .append(s.corruptedSelected() < 0 ? "n/a" : String.valueOf(s.corruptedSelected())).append("</td>")
            .append("<td class=\"l\">").append(esc(s.chosen())).append("</td><td>")
            .append(s.report().frontier().size()).append("</td>");
        for (int i = 0; i < RepairSummary.SETS.length; i++) {
          h.append("<td>").append(pct(s.before()[i])).append(" &rarr; ").append(pct(s.after()[i])).append("</td>");
        }
        h.append("<td>").append(signed(s.benchmarkChangePoints())).append("</td><td>")
            .append(signed(s.correctHoldoutChangePoints())).append("</td><td class=\"l\">")
            .append(esc(s.status())).append("</td><td>").append(num(s.searchSeconds(), 1)).append("</td><td>")
            .append(num(s.totalSeconds(), 1)).append("</td><td class=\"l\">").append(esc(s.model()))
            .append("</td></tr>\n");
      }
      h.append("</table>\n<p>Accuracies before &rarr; after on Fq (the failures the repair was given), B (the"
          + " benchmark cases it must keep), Fh (held-out failures), the T\\F holdout and the whole test set. The"
          + " search picks, among the candidates that fix a failure of Fq and lose at most"
          + " <code>repair.max-benchmark-drop</code> points on B, the one with the highest Fq accuracy. A repair"
          + " is <b>rejected</b> when no candidate qualifies; the closest one is then written as"
          + " <code>model-rejected.zip</code>. <i>unchanged</i>: there was nothing to repair (empty selection).</p>\n");
    }
    h.append("</body>\n</html>\n");
    return h.toString();
  }

  /** The machine-readable content of the page (summary.json). */
  public Map<String, Object> summary() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("workdir", workdir);
    m.put("generated", generated);
    m.put("notes", notes);
    m.put("success_directions", successDirections());
    Map<String, Object> plots = new LinkedHashMap<>();
    plots.put("identification", identificationPng);
    plots.put("repair_tradeoff", tradeoffPng);
    m.put("plots", plots);
    List<Map<String, Object>> ident = new ArrayList<>();
    for (IdentificationCurve c : curves) {
      Map<String, Object> one = new LinkedHashMap<>();
      one.put("method", c.method());
      one.put("rows", c.rows());
      one.put("corrupted", c.corrupted());
      Map<String, Object> found = new LinkedHashMap<>();
      for (double f : IdentificationCurve.INSPECTED) {
        found.put(IdentificationCurve.key(f), c.foundAt(f));
      }
      one.put("found", c.hasCorruption() ? found : null);
      one.put("area_under_curve", c.areaUnderCurve());
      one.put("seconds", c.seconds());
      List<List<Double>> points = new ArrayList<>();
      if (c.hasCorruption()) {
        for (double[] p : c.points(ReportCharts.CURVE_POINTS)) {
          points.add(List.of(p[0], p[1]));
        }
      }
      one.put("curve", points);
      ident.add(one);
    }
    m.put("identification", ident);
    List<Map<String, Object>> rep = new ArrayList<>();
    for (RepairSummary s : repairs) {
      Map<String, Object> one = new LinkedHashMap<>();
      one.put("method", s.method());
      one.put("status", s.status());
      one.put("ranking", s.ranking());
      one.put("selection_policy", s.policy());
      one.put("selection_size", s.selected());
      one.put("corrupted_in_selection", s.corruptedSelected() < 0 ? null : s.corruptedSelected());
      one.put("before", accuracies(s.before()));
      one.put("after", accuracies(s.after()));
      one.put("chosen", s.report().chosen() == null ? null : s.report().chosen().knobs().asMap());
      one.put("candidates", s.report().frontier().size());
      one.put("benchmark_change_points", s.benchmarkChangePoints());
      one.put("correct_holdout_change_points", s.correctHoldoutChangePoints());
      one.put("max_benchmark_drop_points", s.maxBenchmarkDrop());
      one.put("search_seconds", s.searchSeconds());
      one.put("total_seconds", s.totalSeconds());
      one.put("model", s.model());
      rep.add(one);
    }
    m.put("repairs", rep);
    return m;
  }

  /** The console table of the repairs: per method |C|, every set before -> after, status, seconds, chosen point. */
  /** The top fractions whose corrupted share {@link #identificationTable} lists. */
  public static final double[] SHARE_AT = {0.01, 0.05, 0.10, 0.20};

  /**
   * For every ranking of corrupted data: the share of corrupted examples among its top 1/5/10/20% (the base rate for
   * a random ranking), the area under found-vs-inspected and the identify time; empty without corruption flags.
   */
  public List<String> identificationTable() {
    List<String> lines = new ArrayList<>();
    List<IdentificationCurve> withFlags = curves.stream().filter(IdentificationCurve::hasCorruption).toList();
    if (withFlags.isEmpty()) {
      return lines;
    }
    StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%-20s", "ranking"));
    for (double f : SHARE_AT) {
      head.append(String.format(Locale.ROOT, " %8s", IdentificationCurve.label(f)));
    }
    lines.add(head.append(String.format(Locale.ROOT, " %6s %8s", "AUC", "seconds")).toString());
    for (IdentificationCurve c : withFlags) {
      StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%-20s", c.method()));
      for (double f : SHARE_AT) {
        row.append(String.format(Locale.ROOT, " %8s", pct(c.shareInTop(f))));
      }
      lines.add(row.append(String.format(Locale.ROOT, " %6.3f %8.1f", c.areaUnderCurve(), c.seconds())).toString());
    }
    lines.add(String.format(Locale.ROOT, "(corrupted share among the top of each ranking; base rate %s of %d)",
        pct(withFlags.get(0).baseRate()), withFlags.get(0).rows()));
    return lines;
  }

  public List<String> repairTable() {
    List<String> lines = new ArrayList<>();
    if (repairs.isEmpty()) {
      return lines;
    }
    lines.add(String.format(Locale.ROOT, "%-18s %5s  %-15s %-17s %-15s %-17s %-15s  %-10s %7s  %s", "method", "|C|",
        "Fq", "B", "Fh", "T\\F holdout", "test", "status", "seconds", "chosen point"));
    for (RepairSummary s : repairs) {
      lines.add(String.format(Locale.ROOT, "%-18s %5d  %-15s %-17s %-15s %-17s %-15s  %-10s %7.1f  %s", s.method(),
          s.selected(), change(s, RepairSummary.QUERY), change(s, RepairSummary.BENCHMARK),
          change(s, RepairSummary.HOLDOUT), change(s, RepairSummary.CORRECT_HOLDOUT), change(s, RepairSummary.TEST),
          s.status().toUpperCase(Locale.ROOT), s.totalSeconds(), s.chosen()));
    }
    return lines;
  }

  private static String change(RepairSummary s, int set) {
    return pct(s.before()[set]) + " -> " + pct(s.after()[set]);
  }

  private static Map<String, Object> accuracies(double[] a) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < RepairSummary.SETS.length; i++) {
      m.put(RepairSummary.SETS[i], a[i]);
    }
    return m;
  }

  static String pct(double v) {
    return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.1f%%", 100 * v);
  }

  static String signed(double v) {
    return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%+.2f", v);
  }

  static String num(double v, int decimals) {
    return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%." + decimals + "f", v);
  }

  static String esc(String s) {
    if (s == null) {
      return "";
    }
    StringBuilder b = new StringBuilder(s.length());
    for (char ch : s.toCharArray()) {
      switch (ch) {
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '&' -> b.append("&amp;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&#39;");
        default -> b.append(ch);
      }
    }
    return b.toString();
  }
}
