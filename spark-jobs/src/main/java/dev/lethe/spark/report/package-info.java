/**
 * The {@code report} stage's content, engine-free: what identification found
 * ({@link dev.lethe.influence.IdentificationCurve}: the share of corrupted training examples among the top of a
 * ranking), what each repair did ({@link dev.lethe.spark.report.RepairSummary}, read from
 * repair/&lt;method&gt;/report.json), their JFreeChart plots ({@link dev.lethe.spark.report.ReportCharts}) and the
 * HTML page, summary JSON and console table ({@link dev.lethe.spark.report.ReportPage}).
 */
package dev.lethe.spark.report;
