package dev.lethe.bench;

import dev.lethe.config.LetheConfig;
import dev.lethe.data.ExampleSet;
import dev.lethe.math.DiagonalFisher;
import dev.lethe.math.EmpiricalFisher;
import dev.lethe.math.LogLikelihood;
import dev.lethe.math.NetworkBytes;
import dev.lethe.math.backend.BackendSelector;
import dev.lethe.math.backend.ComputeBackend;
import dev.lethe.math.backend.Purpose;
import dev.lethe.model.Architecture;
import dev.lethe.model.ModelOptions;
import dev.lethe.model.Models;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code backend} suite (issue 32, "Measure"): on the paper CNN (Tanno et al. 2022, the network the {@code train}
 * stage builds for 28 x 28 grey images and 10 classes, in double precision as identify scores it), the generic DL4J
 * backend against the CNN fast path, in one JVM and one run: the scoring rate (log p of every row,
 * {@code identify.batch-size} rows per forward pass) and the time of the Fisher diagonal (one gradient per row), each
 * with {@code compute.backend} set to {@code auto} and to {@code dl4j}, interleaved; the medians of
 * {@code bench.backend.rounds} timed rounds after one untimed round. The rows are uniform random pixels with random
 * labels (the rates do not depend on the values); the two backends' log-likelihoods and Fisher diagonals are compared
 * as a check that both computed the same thing.
 */
final class BackendSuite {
  private static final Logger LOG = LoggerFactory.getLogger(BackendSuite.class);
  static final String EXPERIMENT = "backend";
  static final String SETTING = "paper-cnn";

  private BackendSuite() {}

  /** The suite's settings, from the {@code bench.backend} keys. */
  record Settings(int scoreRows, int fisherRows, int rounds, int batchSize, long seed) {
    static Settings of(LetheConfig c) {
      return new Settings(c.positiveInt("bench.backend.score-rows"), c.positiveInt("bench.backend.fisher-rows"),
          c.positiveInt("bench.backend.rounds"), c.positiveInt("identify.batch-size"), c.getLong("seed"));
    }
  }

  /** The medians of one backend's timed rounds. */
  private record Rates(String backend, double scoreRowsPerSecond, double fisherSeconds, double[] logLik,
      DiagonalFisher fisher) {}

  /** Runs the suite for the bench stage: measurements to results.csv, its section to summary.md. */
  static void run(BenchContext ctx) {
    Settings s = Settings.of(ctx.config());
    ctx.addSection(run(s, ctx::record));
  }

  static String run(Settings s, ScaleSuite.Recorder rec) {
    MultiLayerNetwork f = Models.build(new ModelOptions(Architecture.CNN, 1, 28, 28, 10, List.of(), s.seed()),
        DataType.FLOAT);
    MultiLayerNetwork cnn = NetworkBytes.rebuild(NetworkBytes.configBytes(f), NetworkBytes.paramBytes(f.params()),
        DataType.DOUBLE);
    ExampleSet scoreSet = randomRows(s.scoreRows(), s.seed());
    ExampleSet fisherSet = scoreSet.size() >= s.fisherRows()
        ? scoreSet.select(java.util.stream.IntStream.range(0, s.fisherRows()).toArray())
        : randomRows(s.fisherRows(), s.seed());
    ComputeBackend before = BackendSelector.setting();
    List<double[]> autoRounds = new ArrayList<>();
    List<double[]> dl4jRounds = new ArrayList<>();
    Rates auto = null;
    Rates dl4j = null;
    try {
      for (int round = 0; round <= s.rounds(); round++) {
        // round 0 warms both up, untimed
        auto = measure(ComputeBackend.AUTO, cnn, scoreSet, fisherSet, s.batchSize());
        dl4j = measure(ComputeBackend.DL4J, cnn, scoreSet, fisherSet, s.batchSize());
        if (round > 0) {
          autoRounds.add(new double[] {auto.scoreRowsPerSecond(), auto.fisherSeconds()});
          dl4jRounds.add(new double[] {dl4j.scoreRowsPerSecond(), dl4j.fisherSeconds()});
        }
        LOG.info("backend suite: round {} of {} (0 untimed): scoring {} {} rows/s, {} {} rows/s; fisher {} {} s,"
            + " {} {} s", round, s.rounds(), auto.backend(), fmt(auto.scoreRowsPerSecond()), dl4j.backend(),
            fmt(dl4j.scoreRowsPerSecond()), auto.backend(), fmt(auto.fisherSeconds()), dl4j.backend(),
            fmt(dl4j.fisherSeconds()));
      }
    } finally {
      BackendSelector.configure(before);
    }
    double scoreAuto = median(autoRounds, 0);
    double scoreDl4j = median(dl4jRounds, 0);
    double fisherAuto = median(autoRounds, 1);
    double fisherDl4j = median(dl4jRounds, 1);
    double logLikDiff = maxRelDiff(auto.logLik(), dl4j.logLik(), 1e-12);
    double[] fa = auto.fisher().values();
    double[] fd = dl4j.fisher().values();
    double fisherDiff = maxRelDiff(fa, fd, 1e-6 * Arrays.stream(fa).max().orElse(1));
    long seed = s.seed();
    rec.record(EXPERIMENT, SETTING, seed, auto.backend(), "scoring_rows_per_second", scoreAuto, "rows/s");
    rec.record(EXPERIMENT, SETTING, seed, dl4j.backend(), "scoring_rows_per_second", scoreDl4j, "rows/s");
    rec.record(EXPERIMENT, SETTING, seed, dl4j.backend(), "scoring_rate_ratio_to_auto", scoreDl4j / scoreAuto,
        "ratio");
    rec.record(EXPERIMENT, SETTING, seed, auto.backend(), "fisher_seconds", fisherAuto, "s");
    rec.record(EXPERIMENT, SETTING, seed, dl4j.backend(), "fisher_seconds", fisherDl4j, "s");
    rec.record(EXPERIMENT, SETTING, seed, auto.backend(), "fisher_rows_per_second", s.fisherRows() / fisherAuto,
        "rows/s");
    rec.record(EXPERIMENT, SETTING, seed, dl4j.backend(), "fisher_rows_per_second", s.fisherRows() / fisherDl4j,
        "rows/s");
    rec.record(EXPERIMENT, SETTING, seed, dl4j.backend(), "fisher_time_ratio_to_auto", fisherDl4j / fisherAuto,
        "ratio");
    rec.record(EXPERIMENT, SETTING, seed, dl4j.backend(), "loglik_max_rel_diff_to_auto", logLikDiff, "ratio");
    rec.record(EXPERIMENT, SETTING, seed, dl4j.backend(), "fisher_max_rel_diff_to_auto", fisherDiff, "ratio");

    StringBuilder md = new StringBuilder();
    md.append("## Compute backends on the paper CNN\n\n");
    md.append(String.format(Locale.ROOT, "The paper CNN (%,d parameters, double precision) with `compute.backend ="
        + " auto` (the backend it selects: `%s`) and with `compute.backend = dl4j` (`%s`, DL4J's own passes),"
        + " interleaved in one JVM; medians of %d timed rounds after one untimed round. Scoring: log p of %,d rows,"
        + " %d per forward pass. Fisher diagonal: one gradient per row over %,d rows.%n%n", cnn.numParams(),
        auto.backend(), dl4j.backend(), s.rounds(), s.scoreRows(), s.batchSize(), s.fisherRows()));
    md.append("| backend | scoring (rows/s) | Fisher diagonal (s) | Fisher (rows/s) |\n| --- | --- | --- | --- |\n");
    md.append(String.format(Locale.ROOT, "| %s | %.1f | %.2f | %.2f |%n", auto.backend(), scoreAuto, fisherAuto,
        s.fisherRows() / fisherAuto));
    md.append(String.format(Locale.ROOT, "| %s | %.1f | %.2f | %.2f |%n%n", dl4j.backend(), scoreDl4j, fisherDl4j,
        s.fisherRows() / fisherDl4j));
    md.append(String.format(Locale.ROOT, "The generic DL4J path scores at **%.3f** of the rate of `%s`, and its"
        + " Fisher diagonal takes **%.1f** times as long. Agreement: log-likelihoods to %.1e relative, Fisher"
        + " diagonals to %.1e relative (entries below 1e-6 of the largest compared absolutely).%n%n",
        scoreDl4j / scoreAuto, auto.backend(), fisherDl4j / fisherAuto, logLikDiff, fisherDiff));
    return md.toString();
  }

  private static Rates measure(ComputeBackend mode, MultiLayerNetwork net, ExampleSet scoreSet, ExampleSet fisherSet,
      int batchSize) {
    BackendSelector.configure(mode);
    String name = BackendSelector.current().select(net, Purpose.SCORES).name();
    long t0 = System.nanoTime();
    double[] logLik = LogLikelihood.perExample(net, scoreSet, batchSize);
    double scoreRate = scoreSet.size() / ((System.nanoTime() - t0) / 1e9);
    long t1 = System.nanoTime();
    DiagonalFisher fisher = EmpiricalFisher.compute(net, fisherSet);
    double fisherSeconds = (System.nanoTime() - t1) / 1e9;
    return new Rates(name, scoreRate, fisherSeconds, logLik, fisher);
  }

  /** {@code n} rows of 28 x 28 uniform random pixels in [0, 1] with uniform random labels of 10 classes. */
  static ExampleSet randomRows(int n, long seed) {
    SplittableRandom rng = new SplittableRandom(seed);
    long[] ids = new long[n];
    float[][] x = new float[n][784];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      ids[i] = i;
      y[i] = rng.nextInt(10);
      for (int j = 0; j < 784; j++) {
        x[i][j] = (float) rng.nextDouble();
      }
    }
    return ExampleSet.clean(ids, x, y, 784);
  }

  private static double median(List<double[]> rounds, int k) {
    double[] v = rounds.stream().mapToDouble(r -> r[k]).sorted().toArray();
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }

  private static double maxRelDiff(double[] a, double[] b, double floor) {
    double m = 0;
    for (int i = 0; i < a.length; i++) {
      m = Math.max(m, Math.abs(a[i] - b[i]) / Math.max(Math.abs(a[i]), floor));
    }
    return m;
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%.2f", v);
  }
}
