package dev.lethe.spark.report;

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
 */
public record ReportPage(String workdir, String generated, List<IdentificationCurve> curves,
    List<RepairSummary> repairs, String identificationPng, String tradeoffPng, List<String> notes) {

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
      h.append("<p>No culprits table (<code>culprits/*.parquet</code>): run <code>lethe identify</code>.</p>\n");
    } else {
      if (identificationPng != null) {
        h.append("<p>Inspecting the training set in rank order (most harmful first), the fraction of the corrupted"
            + " examples found; a random ranking follows the diagonal.</p>\n");
        h.append("<img src=\"").append(esc(identificationPng))
            .append("\" alt=\"fraction of corrupted training examples found vs fraction inspected\">\n");
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
        h.append("<p>Accuracy on the held-out failures Fh (never used by the repair: does the fix generalise?)"
            + " against accuracy on T\\F (the test examples theta_hat got right: did the repair break them?)."
            + " The dashed line is the guardrail.</p>\n");
        h.append("<img src=\"").append(esc(tradeoffPng))
            .append("\" alt=\"accuracy on Fh vs accuracy on T\\F for each treatment\">\n");
      }
      h.append("<table>\n<tr><th class=\"l\">method</th><th class=\"l\">culprits</th><th class=\"l\">selection</th>"
          + "<th>|C|</th><th>corrupted in C</th><th>Fq</th><th>Fh</th><th>T\\F</th><th>test</th>"
          + "<th>T\\F change (points)</th><th class=\"l\">status</th><th>treatment s</th><th>total s</th>"
          + "<th class=\"l\">model</th></tr>\n");
      for (RepairSummary s : repairs) {
        h.append("<tr class=\"").append(esc(s.status())).append("\"><td class=\"l\">").append(esc(s.method()))
            .append("</td><td class=\"l\">").append(esc(s.culprits())).append("</td><td class=\"l\">")
            .append(esc(s.policy())).append("</td><td>").append(s.selected()).append("</td><td>")
            .append(s.corruptedSelected() < 0 ? "n/a" : String.valueOf(s.corruptedSelected())).append("</td>");
        for (int i = 0; i < RepairSummary.SETS.length; i++) {
          h.append("<td>").append(pct(s.before()[i])).append(" &rarr; ").append(pct(s.after()[i])).append("</td>");
        }
        h.append("<td>").append(signed(s.remainingChangePoints())).append("</td><td class=\"l\">")
            .append(esc(s.status())).append("</td><td>").append(num(s.treatmentSeconds(), 1)).append("</td><td>")
            .append(num(s.totalSeconds(), 1)).append("</td><td class=\"l\">").append(esc(s.model()))
            .append("</td></tr>\n");
      }
      h.append("</table>\n<p>Accuracies before &rarr; after on Fq (the failures the repair was given), Fh (held-out"
          + " failures), T\\F (the rest of the test set) and the whole test set. A repair is <b>rejected</b> when"
          + " its T\\F accuracy drops by more than <code>repair.max-remaining-drop</code> points; its model is"
          + " then written as <code>model-rejected.zip</code>. <i>unchanged</i>: the treatment returned theta_hat"
          + " (empty selection, or no epoch improved its early-stopping criterion).</p>\n");
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
      one.put("culprits", s.culprits());
      one.put("selection_policy", s.policy());
      one.put("selection_size", s.selected());
      one.put("corrupted_in_selection", s.corruptedSelected() < 0 ? null : s.corruptedSelected());
      one.put("before", accuracies(s.before()));
      one.put("after", accuracies(s.after()));
      one.put("remaining_change_points", s.remainingChangePoints());
      one.put("max_remaining_drop_points", s.maxRemainingDrop());
      one.put("treatment_seconds", s.treatmentSeconds());
      one.put("total_seconds", s.totalSeconds());
      one.put("model", s.model());
      rep.add(one);
    }
    m.put("repairs", rep);
    return m;
  }

  /** The console table of the repairs: per method |C|, Fq/Fh/T\F before -> after, T\F change, status, seconds. */
  public List<String> repairTable() {
    List<String> lines = new ArrayList<>();
    if (repairs.isEmpty()) {
      return lines;
    }
    lines.add(String.format(Locale.ROOT, "%-18s %6s  %-15s %-15s %-17s %8s  %-10s %8s", "method", "|C|",
        "Fq", "Fh", "T\\F", "T\\F pts", "status", "seconds"));
    for (RepairSummary s : repairs) {
      lines.add(String.format(Locale.ROOT, "%-18s %6d  %-15s %-15s %-17s %8s  %-10s %8.1f", s.method(),
          s.selected(), change(s, RepairSummary.QUERY), change(s, RepairSummary.HOLDOUT),
          change(s, RepairSummary.REMAINING), signed(s.remainingChangePoints()),
          s.rejected() ? "REJECTED" : s.status(), s.totalSeconds()));
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
