package dev.lethe.influence;

import dev.lethe.LetheInputException;
import dev.lethe.data.ExampleSet;
import dev.lethe.math.LogLikelihood;
import dev.lethe.math.PerExampleGradients;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * A differentiable performance metric C(theta) of PUMA's data value (higher = better), written as the weighted sum
 * of log-probabilities whose gradient it has at theta_hat:
 *
 * <pre>
 *   grad C(theta_hat) = sum_i w_i grad log p(t_i | x_i, theta_hat)
 * </pre>
 *
 * over a set of examples x_i with target labels t_i. Every metric of {@link PumaOptions} is a function of the
 * softmax outputs p, and grad p(t | x) = p(t | x) grad log p(t | x), so:
 *
 * <ul>
 *   <li>query-loss: C = mean log p(y | x) over Fq (minus the mean query loss); t = y, w = 1/|Fq|;
 *   <li>benchmark-accuracy: the smooth accuracy C = mean p(y | x) over B; t = y, w = p(y | x) / |B|;
 *   <li>class-recall:K: the smooth recall C = mean p(K | x) over the examples of Fq and B labelled K; t = K,
 *       w = p(K | x) / n_K;
 *   <li>calibration: C = -ECE, the expected calibration error sum_b (n_b / n) |conf_b - acc_b| over equal-width bins
 *       of the confidence max_c p(c | x) (Guo et al. 2017). Bin membership and correctness are piecewise constant in
 *       theta, so at theta_hat grad ECE = (1/n) sum_i sign(conf_b(i) - acc_b(i)) grad p(yhat_i | x_i): t = yhat,
 *       w = -sign_b(i) p(yhat | x) / n (the surrogate is ECE with bins and correctness held at theta_hat).
 * </ul>
 *
 * @param rows the examples, labelled with their targets t_i
 * @param weights w_i, one per row
 * @param uniform whether every weight is 1 / rows (then the gradient is the batched sum, scaled)
 * @param value C(theta_hat)
 */
record PumaMetric(ExampleSet rows, double[] weights, boolean uniform, double value) {

  /** The metric of {@code o} at {@code model} over Fq ({@code query}) and B ({@code benchmark}, may be null). */
  static PumaMetric of(PumaOptions o, MultiLayerNetwork model, ExampleSet query, ExampleSet benchmark) {
    switch (o.metric()) {
      case PumaOptions.QUERY_LOSS -> {
        double[] w = new double[query.size()];
        Arrays.fill(w, 1.0 / query.size());
        return new PumaMetric(query, w, true, LogLikelihood.mean(model, query, 256));
      }
      case PumaOptions.BENCHMARK_ACCURACY -> {
        ExampleSet b = require(benchmark, PumaOptions.METRIC_KEY, "the benchmark cases B");
        return smooth(model, b, b.labels());
      }
      case PumaOptions.CLASS_RECALL -> {
        ExampleSet all = benchmark == null ? query : query.concat(benchmark);
        List<Integer> keep = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
          if (all.label(i) == o.recallClass()) {
            keep.add(i);
          }
        }
        ExampleSet k = require(all.select(keep.stream().mapToInt(Integer::intValue).toArray()),
            PumaOptions.METRIC_KEY, "the examples of Fq and B labelled " + o.recallClass());
        int[] t = new int[k.size()];
        Arrays.fill(t, o.recallClass());
        return smooth(model, k, t);
      }
      default -> {
        ExampleSet s = switch (o.calibrationSet()) {
          case PumaOptions.QUERY -> query;
          case PumaOptions.BENCHMARK -> benchmark;
          default -> benchmark == null ? query : query.concat(benchmark);
        };
        return calibration(model, require(s, PumaOptions.SET_KEY, "the calibration set '" + o.calibrationSet() + "'"),
            o.calibrationBins());
      }
    }
  }

  private static ExampleSet require(ExampleSet s, String key, String what) {
    if (s == null || s.size() == 0) {
      throw LetheInputException.of("config key '%s': %s is empty: the metric is undefined", key, what);
    }
    return s;
  }

  /** C = mean p(t_i | x_i). */
  private static PumaMetric smooth(MultiLayerNetwork model, ExampleSet s, int[] targets) {
    double[][] p = probabilities(model, s);
    int n = s.size();
    double[] w = new double[n];
    double c = 0;
    for (int i = 0; i < n; i++) {
      w[i] = p[i][targets[i]] / n;
      c += w[i];
    }
    return new PumaMetric(s.withLabels(targets, s.corruptions()), w, false, c);
  }

  /** C = -ECE over {@code bins} equal-width confidence bins. */
  private static PumaMetric calibration(MultiLayerNetwork model, ExampleSet s, int bins) {
    double[][] p = probabilities(model, s);
    int n = s.size();
    int[] pred = new int[n];
    int[] bin = new int[n];
    double[] conf = new double[n];
    double[] confSum = new double[bins];
    double[] correct = new double[bins];
    double[] count = new double[bins];
    for (int i = 0; i < n; i++) {
      int arg = 0;
      for (int c = 1; c < p[i].length; c++) {
        if (p[i][c] > p[i][arg]) {
          arg = c;
        }
      }
      pred[i] = arg;
      conf[i] = p[i][arg];
      bin[i] = Math.min(bins - 1, (int) Math.floor(conf[i] * bins));
      confSum[bin[i]] += conf[i];
      correct[bin[i]] += arg == s.label(i) ? 1 : 0;
      count[bin[i]]++;
    }
    double ece = 0;
    double[] sign = new double[bins];
    for (int b = 0; b < bins; b++) {
      if (count[b] > 0) {
        double gap = (confSum[b] - correct[b]) / count[b];
        ece += count[b] / n * Math.abs(gap);
        sign[b] = Math.signum(gap);
      }
    }
    double[] w = new double[n];
    for (int i = 0; i < n; i++) {
      w[i] = -sign[bin[i]] * conf[i] / n;
    }
    return new PumaMetric(s.withLabels(pred, s.corruptions()), w, false, -ece);
  }

  /** softmax probabilities of every row at {@code model}, in double precision. */
  static double[][] probabilities(MultiLayerNetwork model, ExampleSet s) {
    double[][] z = LogLikelihood.logitsInDouble(model, s, 256);
    double[][] p = new double[z.length][];
    for (int i = 0; i < z.length; i++) {
      p[i] = new double[z[i].length];
      for (int c = 0; c < z[i].length; c++) {
        p[i][c] = Math.exp(LogLikelihood.logSoftmax(z[i], c));
      }
    }
    return p;
  }

  /** grad C(theta_hat), as a flat parameter vector. */
  double[] gradient(MultiLayerNetwork model) {
    if (uniform) {
      double[] g = PerExampleGradients.sumArray(model, rows, 256);
      double w = weights[0];
      for (int j = 0; j < g.length; j++) {
        g[j] *= w;
      }
      return g;
    }
    double[] g = new double[(int) model.numParams()];
    PerExampleGradients.forEach(model, rows, (row, grad) -> {
      double w = weights[row];
      if (w != 0) {
        double[] v = grad.toDoubleVector();
        for (int j = 0; j < g.length; j++) {
          g[j] += w * v[j];
        }
      }
    });
    return g;
  }
}
