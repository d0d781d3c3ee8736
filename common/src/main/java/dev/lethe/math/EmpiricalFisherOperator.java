package dev.lethe.math;

import dev.lethe.data.ExampleSet;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The full empirical Fisher over a sample of m examples plus damping, x -> (1/m) sum_i g_i (g_i . x) + damping x,
 * g_i = grad log p(y_i | x_i, theta_hat), applied matrix-free (the p x p matrix is never formed): the curvature of
 * the linear influence, Tanno et al. 2022, Eq. 9.
 *
 * <p>When m * p * 8 bytes is below {@link #DEFAULT_PRECOMPUTE_LIMIT_BYTES} the per-example gradients are computed
 * once and held as {@code double[m][p]}; otherwise every {@link #apply} recomputes them (one backward pass per
 * sample row), which is slow but needs O(p) memory. The network is only read.
 */
public final class EmpiricalFisherOperator implements LinearOperator {
  private static final Logger LOG = LoggerFactory.getLogger(EmpiricalFisherOperator.class);

  /** About 1.5 GB. */
  public static final long DEFAULT_PRECOMPUTE_LIMIT_BYTES = 1_500_000_000L;

  private final MultiLayerNetwork net;
  private final ExampleSet sample;
  private final double damping;
  private final double[][] grads;
  private final int[] rows;
  private final int p;

  /** As {@link #EmpiricalFisherOperator(MultiLayerNetwork, ExampleSet, double, long)} with the default limit. */
  public EmpiricalFisherOperator(MultiLayerNetwork net, ExampleSet sample, double damping) {
    this(net, sample, damping, DEFAULT_PRECOMPUTE_LIMIT_BYTES);
  }

  /**
   * @param precomputeLimitBytes precompute the gradients when m * p * 8 is below this (0: always recompute)
   */
  public EmpiricalFisherOperator(MultiLayerNetwork net, ExampleSet sample, double damping,
      long precomputeLimitBytes) {
    if (sample.size() == 0) {
      throw new IllegalArgumentException("empirical Fisher of an empty sample");
    }
    if (!(damping >= 0) || Double.isInfinite(damping)) {
      throw new IllegalArgumentException("damping must be finite and >= 0, got " + damping);
    }
    this.net = net;
    this.sample = sample;
    this.damping = damping;
    this.p = Math.toIntExact(net.numParams());
    this.rows = null;
    long bytes = (long) sample.size() * p * 8L;
    if (bytes < precomputeLimitBytes) {
      long t0 = System.nanoTime();
      double[][] g = new double[sample.size()][];
      PerExampleGradients.forEach(net, sample, (row, grad) -> g[row] = grad.toDoubleVector());
      this.grads = g;
      LOG.info("empirical Fisher operator: {} per-example gradients of {} parameters precomputed ({} MB) in {} ms",
          sample.size(), p, bytes >> 20, (System.nanoTime() - t0) / 1_000_000);
    } else {
      this.grads = null;
      LOG.info("empirical Fisher operator: {} x {} gradients ({} MB) exceed the {} MB limit; recomputing per"
          + " product", sample.size(), p, bytes >> 20, precomputeLimitBytes >> 20);
    }
  }

  private EmpiricalFisherOperator(EmpiricalFisherOperator parent, int[] rows, double damping) {
    this.net = parent.net;
    this.sample = parent.sample;
    this.grads = parent.grads;
    this.p = parent.p;
    this.damping = damping;
    this.rows = rows;
  }

  /**
   * The empirical Fisher over the given sample rows only (sharing any precomputed gradients), with its own
   * damping: the minibatch curvature of {@link Lissa} (which adds damping itself, so pass 0 there).
   */
  public EmpiricalFisherOperator subset(int[] sampleRows, double subsetDamping) {
    if (sampleRows.length == 0) {
      throw new IllegalArgumentException("empty subset");
    }
    return new EmpiricalFisherOperator(this, sampleRows.clone(), subsetDamping);
  }

  /**
   * The undamped empirical Fisher over {@code k} rows drawn uniformly with replacement from the sample by a
   * generator seeded with {@code seed}: one minibatch curvature for {@link Lissa}.
   */
  public EmpiricalFisherOperator randomMinibatch(long seed, int k) {
    java.util.SplittableRandom rng = new java.util.SplittableRandom(seed);
    int[] r = new int[k];
    for (int i = 0; i < k; i++) {
      r[i] = rng.nextInt(sample.size());
    }
    return subset(r, 0);
  }

  /**
   * The largest squared gradient norm over the sample rows (precomputed gradients: a scan; otherwise one gradient
   * pass). It bounds the largest eigenvalue of the undamped curvature (1/k) sum g g^T of ANY minibatch drawn from
   * the sample, of any size and with replacement (that eigenvalue is at most the mean of the rows' squared norms),
   * so a LiSSA scale of this plus the damping can never diverge; see {@link Lissa#automaticScale}.
   */
  public double largestSquaredGradientNorm() {
    double[] max = {0};
    java.util.function.Consumer<double[]> visit = g -> {
      double s = 0;
      for (double x : g) {
        s += x * x;
      }
      max[0] = Math.max(max[0], s);
    };
    if (grads != null) {
      int m = rows == null ? grads.length : rows.length;
      for (int k = 0; k < m; k++) {
        visit.accept(grads[rows == null ? k : rows[k]]);
      }
    } else {
      ExampleSet s = rows == null ? sample : sample.select(rows);
      PerExampleGradients.forEach(net, s, (row, grad) -> visit.accept(grad.toDoubleVector()));
    }
    return max[0];
  }

  /** Number of examples in the (full) sample. */
  public int sampleSize() {
    return sample.size();
  }

  public boolean precomputed() {
    return grads != null;
  }

  @Override
  public long size() {
    return p;
  }

  @Override
  public void apply(double[] x, double[] out) {
    java.util.Arrays.fill(out, 0.0);
    int m;
    if (grads != null) {
      m = rows == null ? grads.length : rows.length;
      for (int k = 0; k < m; k++) {
        accumulate(grads[rows == null ? k : rows[k]], x, out);
      }
    } else {
      ExampleSet s = rows == null ? sample : sample.select(rows);
      m = s.size();
      PerExampleGradients.forEach(net, s, (row, grad) -> accumulate(grad.toDoubleVector(), x, out));
    }
    double inv = 1.0 / m;
    for (int j = 0; j < p; j++) {
      out[j] = out[j] * inv + damping * x[j];
    }
  }

  private static void accumulate(double[] g, double[] x, double[] out) {
    double c = 0;
    for (int j = 0; j < g.length; j++) {
      c += g[j] * x[j];
    }
    for (int j = 0; j < g.length; j++) {
      out[j] += c * g[j];
    }
  }

  /** The operator's diagonal (1/m) sum g_ij^2 + damping, for Jacobi preconditioning (one gradient pass). */
  public double[] diagonal() {
    double[] d = new double[p];
    int m;
    if (grads != null) {
      m = rows == null ? grads.length : rows.length;
      for (int k = 0; k < m; k++) {
        double[] g = grads[rows == null ? k : rows[k]];
        for (int j = 0; j < p; j++) {
          d[j] += g[j] * g[j];
        }
      }
    } else {
      ExampleSet s = rows == null ? sample : sample.select(rows);
      m = s.size();
      PerExampleGradients.forEach(net, s, (row, grad) -> {
        double[] g = grad.toDoubleVector();
        for (int j = 0; j < p; j++) {
          d[j] += g[j] * g[j];
        }
      });
    }
    for (int j = 0; j < p; j++) {
      d[j] = d[j] / m + damping;
    }
    return d;
  }
}
