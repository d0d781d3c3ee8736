package dev.lethe.spark.report;

import dev.lethe.influence.IdentificationCurve;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The report's plots, drawn with JFreeChart and written as PNG. */
public final class ReportCharts {
  private static final Logger LOG = LoggerFactory.getLogger(ReportCharts.class);
  public static final int WIDTH = 900;
  public static final int HEIGHT = 600;
  /** Curve points per identification method (the rest is thinned out). */
  static final int CURVE_POINTS = 2000;
  private static final Color BASELINE = new Color(120, 120, 120);
  private static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c),
      new Color(0xff7f0e), new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x17becf)};

  private ReportCharts() {}

  /**
   * Fraction of the corrupted training examples found vs fraction of the training set inspected in rank order, one
   * curve per identification method (those with corruption flags), plus the random baseline (the diagonal).
   */
  public static JFreeChart identification(List<IdentificationCurve> curves) {
    XYSeriesCollection data = new XYSeriesCollection();
    for (IdentificationCurve c : curves) {
      if (!c.hasCorruption()) {
        continue;
      }
      XYSeries s = new XYSeries(String.format(Locale.ROOT, "%s (area %.3f)", c.method(), c.areaUnderCurve()),
          false, true);
      for (double[] p : c.points(CURVE_POINTS)) {
        s.add(p[0], p[1]);
      }
      data.addSeries(s);
    }
    XYSeries random = new XYSeries("random ranking (area 0.5)", false, true);
    random.add(0, 0);
    random.add(1, 1);
    data.addSeries(random);
    JFreeChart chart = ChartFactory.createXYLineChart("Corrupted training examples found by each ranking",
        "fraction of the training set inspected (most harmful first)", "fraction of the corrupted examples found",
        data, PlotOrientation.VERTICAL, true, false, false);
    XYPlot plot = chart.getXYPlot();
    style(plot);
    XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, false);
    for (int i = 0; i < data.getSeriesCount() - 1; i++) {
      r.setSeriesPaint(i, PALETTE[i % PALETTE.length]);
      r.setSeriesStroke(i, new BasicStroke(2.2f));
    }
    int last = data.getSeriesCount() - 1;
    r.setSeriesPaint(last, BASELINE);
    r.setSeriesStroke(last, new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
        new float[] {6f, 6f}, 0f));
    plot.setRenderer(r);
    unitRange((NumberAxis) plot.getDomainAxis());
    unitRange((NumberAxis) plot.getRangeAxis());
    return chart;
  }

  /**
   * Every repair's frontier: each candidate of its operating-point search as a small dot, at its accuracy on the
   * held-out failures Fh (does the fix generalise?) against its accuracy on the T\F holdout (correctly classified
   * test examples that no decision read: did it break anything?), and the point the search chose (on Fq and B
   * alone) as a large labelled dot; theta_hat as a hollow square. Rejected repairs are labelled so.
   */
  public static JFreeChart tradeoff(List<RepairSummary> repairs) {
    XYSeriesCollection data = new XYSeriesCollection();
    XYSeries before = new XYSeries("before (theta_hat)", false, true);
    RepairSummary first = repairs.get(0);
    before.add(first.before()[RepairSummary.HOLDOUT], first.before()[RepairSummary.CORRECT_HOLDOUT]);
    data.addSeries(before);
    for (RepairSummary s : repairs) {
      XYSeries frontier = new XYSeries(s.method() + " candidates", false, true);
      s.report().frontier().forEach(p -> frontier.add(p.accuracies().holdout(), p.accuracies().correctHoldout()));
      data.addSeries(frontier);
      XYSeries chosen = new XYSeries(s.method() + (s.rejected() ? " (rejected: closest)" : " (chosen)"), false,
          true);
      chosen.add(s.after()[RepairSummary.HOLDOUT], s.after()[RepairSummary.CORRECT_HOLDOUT]);
      data.addSeries(chosen);
    }
    JFreeChart chart = ChartFactory.createScatterPlot("Repair trade-off: every candidate of the search, and the"
        + " chosen point", "accuracy on the held-out failures Fh",
        "accuracy on the T\\F holdout (right before repair, never read by it)", data, PlotOrientation.VERTICAL,
        true, false, false);
    XYPlot plot = chart.getXYPlot();
    style(plot);
    XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(false, true);
    r.setSeriesPaint(0, Color.BLACK);
    r.setSeriesShape(0, new java.awt.geom.Rectangle2D.Double(-8, -8, 16, 16));
    r.setSeriesShapesFilled(0, false); // hollow: repairs that left theta_hat unchanged show inside it
    for (int i = 0; i < repairs.size(); i++) {
      Color c = PALETTE[i % PALETTE.length];
      r.setSeriesPaint(1 + 2 * i, new Color(c.getRed(), c.getGreen(), c.getBlue(), 110));
      r.setSeriesShape(1 + 2 * i, new java.awt.geom.Ellipse2D.Double(-3, -3, 6, 6));
      r.setSeriesVisibleInLegend(1 + 2 * i, false);
      r.setSeriesPaint(2 + 2 * i, c);
      r.setSeriesShape(2 + 2 * i, new java.awt.geom.Ellipse2D.Double(-7, -7, 14, 14));
    }
    plot.setRenderer(r);
    // the x axis spans every candidate; the y axis zooms on theta_hat and the chosen points (candidates that lost
    // far more on the T\F holdout fall below it: the legend and the report's table still list every chosen point)
    double minX = first.before()[RepairSummary.HOLDOUT];
    double maxX = minX;
    for (int k = 0; k < data.getSeriesCount(); k++) {
      XYSeries series = data.getSeries(k);
      for (int i = 0; i < series.getItemCount(); i++) {
        double x = series.getX(i).doubleValue();
        if (Double.isFinite(x)) {
          minX = Math.min(minX, x);
          maxX = Math.max(maxX, x);
        }
      }
    }
    double minY = first.before()[RepairSummary.CORRECT_HOLDOUT];
    double maxY = minY;
    for (RepairSummary s : repairs) {
      double y = s.after()[RepairSummary.CORRECT_HOLDOUT];
      if (Double.isFinite(y)) {
        minY = Math.min(minY, y);
        maxY = Math.max(maxY, y);
      }
    }
    minY = Math.min(minY, maxY - 0.1);
    if (Double.isFinite(minX) && Double.isFinite(minY)) {
      double padX = Math.max(0.02, 0.1 * (maxX - minX));
      double padY = Math.max(0.01, 0.15 * (maxY - minY));
      plot.getDomainAxis().setRange(Math.max(-0.03, minX - padX), Math.min(1.03, maxX + 3 * padX));
      plot.getRangeAxis().setRange(Math.max(-0.03, minY - padY), Math.min(1.03, maxY + padY));
    }
    return chart;
  }

  /** The chart as PNG, or null with a note when it cannot be drawn (e.g. no fonts on a headless machine). */
  public static byte[] pngOrNull(String what, Supplier<JFreeChart> chart, List<String> notes) {
    if (System.getProperty("java.awt.headless") == null) {
      System.setProperty("java.awt.headless", "true");
    }
    try {
      return png(chart.get());
    } catch (RuntimeException | LinkageError | InternalError e) {
      LOG.warn("cannot draw the {} plot", what, e);
      notes.add("The " + what + " plot could not be drawn: " + e);
      return null;
    }
  }

  /** The chart as PNG bytes. */
  public static byte[] png(JFreeChart chart) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(64 * 1024);
    try {
      ChartUtils.writeChartAsPNG(out, chart, WIDTH, HEIGHT);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** The i-th colour of the report's palette (cycling). */
  public static Color color(int i) {
    return PALETTE[i % PALETTE.length];
  }

  /** White background and light grid lines, as every report plot. */
  public static void style(XYPlot plot) {
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(new Color(220, 220, 220));
    plot.setRangeGridlinePaint(new Color(220, 220, 220));
  }

  /** An axis over [0, 1] with ticks every 0.1. */
  public static void unitRange(NumberAxis axis) {
    axis.setRange(0, 1);
    axis.setTickUnit(new org.jfree.chart.axis.NumberTickUnit(0.1));
  }
}
