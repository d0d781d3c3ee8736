package dev.lethe.bench;

import dev.lethe.bench.BenchResults.Stat;
import dev.lethe.spark.cli.Console;
import dev.lethe.spark.report.ReportCharts;
import java.awt.BasicStroke;
import java.awt.Color;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.DeviationRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.jfree.data.xy.YIntervalSeries;
import org.jfree.data.xy.YIntervalSeriesCollection;

/**
 * The benchmark plots (JFreeChart, styled as the report's): means over seeds, with a band of +-1 standard deviation
 * where there is more than one seed.
 */
final class BenchCharts {
  private BenchCharts() {}

  /** Fraction of the corrupted examples found vs fraction inspected, one band per identification method. */
  static JFreeChart identification(BenchResults r, String setting) {
    YIntervalSeriesCollection data = new YIntervalSeriesCollection();
    for (String method : r.distinct(QualitySuite.IDENTIFICATION, setting, BenchResults.Row::method)) {
      YIntervalSeries s = new YIntervalSeries(String.format(Locale.ROOT, "%s (area %.3f)", method,
          r.stat(QualitySuite.IDENTIFICATION, setting, method, "auc").mean()));
      for (double x : QualitySuite.GRID) {
        add(s, x, r.stat(QualitySuite.IDENTIFICATION, setting, method, QualitySuite.foundMetric(x)));
      }
      if (s.getItemCount() > 0) {
        data.addSeries(s);
      }
    }
    JFreeChart chart = ChartFactory.createXYLineChart("Corrupted training examples found (" + setting + ", mean"
        + " +- 1 std over seeds)", "fraction of the training set inspected (most harmful first)",
        "fraction of the corrupted examples found", data, PlotOrientation.VERTICAL, true, false, false);
    XYPlot plot = bands(chart, data.getSeriesCount(), false);
    ReportCharts.unitRange((NumberAxis) plot.getDomainAxis());
    ReportCharts.unitRange((NumberAxis) plot.getRangeAxis());
    return chart;
  }

  /** Accuracy on Fh and on T\F after fine-tuning on D\C, vs the number of top-ranked examples removed. */
  static JFreeChart finetuneSweep(BenchResults r, String setting) {
    YIntervalSeriesCollection data = new YIntervalSeriesCollection();
    String[][] sets = {{"accuracy_holdout", "held-out failures Fh"}, {"accuracy_correct_holdout", "T\\F (right before)"},
        {"accuracy_test", "whole test set"}};
    List<String> points = r.distinct(QualitySuite.FINETUNE_SWEEP, setting, BenchResults.Row::method);
    points.sort(Comparator.comparingDouble(m -> r.stat(QualitySuite.FINETUNE_SWEEP, setting, m, "removed").mean()));
    for (String[] set : sets) {
      YIntervalSeries s = new YIntervalSeries(set[1]);
      for (String m : points) {
        add(s, r.stat(QualitySuite.FINETUNE_SWEEP, setting, m, "removed").mean(),
            r.stat(QualitySuite.FINETUNE_SWEEP, setting, m, set[0]));
      }
      data.addSeries(s);
    }
    JFreeChart chart = ChartFactory.createXYLineChart("Fine-tuning on D\\C after removing the top k of the "
        + QualitySuite.RANKING + " ranking (" + setting + ")", "k, training examples removed (0 = theta_hat)",
        "accuracy", data, PlotOrientation.VERTICAL, true, false, false);
    bands(chart, data.getSeriesCount(), true);
    return chart;
  }

  /**
   * The operating point each repair's search chose at a guardrail of 1 point on B, one dot per seed: its Fh gain
   * against its T\F holdout change (points).
   */
  static JFreeChart tradeoff(BenchResults r, String setting) {
    XYSeriesCollection data = new XYSeriesCollection();
    String d = QualitySuite.limitSuffix(QualitySuite.LIMITS[0]);
    for (String m : r.distinct(QualitySuite.REPAIR, setting, BenchResults.Row::method)) {
      XYSeries s = new XYSeries(m, false, true);
      List<BenchResults.Row> x = r.select(QualitySuite.REPAIR, setting, row -> row.method().equals(m)
          && row.metric().equals("correct_holdout_change_points" + d));
      List<BenchResults.Row> y = r.select(QualitySuite.REPAIR, setting, row -> row.method().equals(m)
          && row.metric().equals("holdout_gain_points" + d));
      for (BenchResults.Row px : x) {
        y.stream().filter(py -> py.seed() == px.seed()).findFirst().ifPresent(py -> s.add(px.value(), py.value()));
      }
      data.addSeries(s);
    }
    JFreeChart chart = ChartFactory.createScatterPlot("Repair operating points (" + setting + ", guardrail "
        + Console.plain(QualitySuite.LIMITS[0]) + " point on B; one dot per seed)",
        "T\\F holdout accuracy change (points)", "accuracy gain on the held-out failures Fh (points)", data,
        PlotOrientation.VERTICAL, true, false, false);
    XYPlot plot = chart.getXYPlot();
    ReportCharts.style(plot);
    XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(false, true);
    for (int i = 0; i < data.getSeriesCount(); i++) {
      renderer.setSeriesPaint(i, ReportCharts.color(i));
      renderer.setSeriesShape(i, new java.awt.geom.Ellipse2D.Double(-6, -6, 12, 12));
    }
    plot.setRenderer(renderer);
    return chart;
  }

  /** Identification wall time per method, split into its parts (means over settings and seeds). */
  static JFreeChart timing(BenchResults r) {
    DefaultCategoryDataset data = new DefaultCategoryDataset();
    for (String m : QualitySuite.IDENTIFY_METHODS) {
      double wall = r.stat(QualitySuite.TIMING, null, m, "identify_wall_seconds").mean();
      if (!Double.isFinite(wall)) {
        continue;
      }
      double parts = 0;
      for (String part : List.of("read_seconds", "prepare_seconds", "score_seconds")) {
        double v = r.stat(QualitySuite.TIMING, null, m, part).mean();
        data.addValue(v, part.replace("_seconds", "").replace("score", "score and rank"), m);
        parts += v;
      }
      data.addValue(Math.max(0, wall - parts), "other (load, Fisher, write)", m);
    }
    return stacked("Cause identification wall time per method (this machine)", "identification method",
        "seconds (identify stage, mean over runs)", data);
  }

  /** The scale suite: ewc-influence identify time per training-set size, split into its parts. */
  static JFreeChart scale(BenchResults r) {
    DefaultCategoryDataset data = new DefaultCategoryDataset();
    for (BenchResults.Row rows : r.select(ScaleSuite.EXPERIMENT, null, row -> row.metric().equals("training_rows"))) {
      String size = rows.setting();
      double wall = r.stat(ScaleSuite.EXPERIMENT, size, ScaleSuite.METHOD, "identify_seconds").mean();
      double update = r.stat(ScaleSuite.EXPERIMENT, size, ScaleSuite.METHOD, "prepare_seconds").mean();
      double pass = r.stat(ScaleSuite.EXPERIMENT, size, ScaleSuite.METHOD, "scoring_pass_seconds").mean();
      String x = String.format(java.util.Locale.ROOT, "%.0f training rows", rows.value());
      data.addValue(update, "EWC update (driver)", x);
      data.addValue(pass, "scoring pass", x);
      data.addValue(Math.max(0, wall - update - pass), "other (start, read, rank, write)", x);
    }
    return stacked("EWC-influence identify wall time by training-set size (this machine)", "training set",
        "seconds (identify stage, own JVM)", data);
  }

  private static JFreeChart stacked(String title, String xLabel, String yLabel, DefaultCategoryDataset data) {
    JFreeChart chart = ChartFactory.createStackedBarChart(title, xLabel, yLabel, data, PlotOrientation.VERTICAL,
        true, false, false);
    CategoryPlot plot = chart.getCategoryPlot();
    plot.setBackgroundPaint(Color.WHITE);
    plot.setRangeGridlinePaint(new Color(220, 220, 220));
    for (int i = 0; i < data.getRowCount(); i++) {
      plot.getRenderer().setSeriesPaint(i, ReportCharts.color(i));
    }
    return chart;
  }

  private static void add(YIntervalSeries s, double x, Stat st) {
    if (st.n() > 0 && Double.isFinite(x) && Double.isFinite(st.mean())) {
      s.add(x, st.mean(), st.mean() - st.std(), st.mean() + st.std());
    }
  }

  private static XYPlot bands(JFreeChart chart, int series, boolean shapes) {
    XYPlot plot = chart.getXYPlot();
    ReportCharts.style(plot);
    DeviationRenderer renderer = new DeviationRenderer(true, shapes);
    for (int i = 0; i < series; i++) {
      Color c = ReportCharts.color(i);
      renderer.setSeriesPaint(i, c);
      renderer.setSeriesFillPaint(i, c);
      renderer.setSeriesStroke(i, new BasicStroke(2.2f));
    }
    renderer.setAlpha(0.18f);
    plot.setRenderer(renderer);
    return plot;
  }
}
