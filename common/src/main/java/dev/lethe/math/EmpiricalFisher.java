package dev.lethe.math;

import dev.lethe.data.ExampleSet;
import java.io.Serializable;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Accumulates the diagonal of the empirical Fisher information F = (1/N) sum_i g_i g_i^T, g_i = grad log
 * p(y_i | x_i, theta_hat), the curvature of the EWC penalty (Tanno et al. 2022, Eq. 10; Kirkpatrick et al. 2017).
 *
 * <p>The state is plain {@code double[]} (Serializable) so that Spark's {@code treeAggregate} can use
 * {@link #add} as seqOp and {@link #merge} as combOp. Sums use Neumaier's compensated summation: whatever the
 * order of additions and merges, every sum equals the exact sum of the (double) squared gradients up to a
 * relative error of a few units of 2^-106 per term count, i.e. partitionings differ at most in the last bit or
 * two of the double result. {@link #toDiagonal} then rounds the mean to float precision (24-bit significand), so
 * results differing in the last double bits round to the same float unless the exact value lies within ~1e-16
 * (relative) of a float rounding boundary: the published Fisher is bitwise identical for every partitioning and
 * merge order with probability about 1 - 2^-28 per entry. Float precision is ample for a curvature estimate.
 */
public final class EmpiricalFisher implements Serializable {
  private static final long serialVersionUID = 1L;

  private final double[] sum;
  private final double[] comp;
  private long count;

  /** An empty accumulator for {@code numParams} parameters. */
  public EmpiricalFisher(int numParams) {
    this.sum = new double[numParams];
    this.comp = new double[numParams];
  }

  /** Adds g_j^2 for one per-example gradient (any shape with numParams elements; read immediately). */
  public EmpiricalFisher add(INDArray grad) {
    if (grad.length() != sum.length) {
      throw new IllegalArgumentException("gradient has " + grad.length() + " elements, expected " + sum.length);
    }
    return add(grad.reshape(grad.length()).toDoubleVector());
  }

  /** Adds g_j^2 for one per-example gradient. */
  public EmpiricalFisher add(double[] grad) {
    if (grad.length != sum.length) {
      throw new IllegalArgumentException("gradient has " + grad.length + " elements, expected " + sum.length);
    }
    for (int j = 0; j < grad.length; j++) {
      addTo(j, grad[j] * grad[j]);
    }
    count++;
    return this;
  }

  /** Adds another accumulator's sums into this one (compensated); returns this. */
  public EmpiricalFisher merge(EmpiricalFisher other) {
    if (other.sum.length != sum.length) {
      throw new IllegalArgumentException("cannot merge Fisher accumulators of " + sum.length + " and "
          + other.sum.length + " parameters");
    }
    for (int j = 0; j < sum.length; j++) {
      addTo(j, other.sum[j]);
      addTo(j, other.comp[j]);
    }
    count += other.count;
    return this;
  }

  private void addTo(int j, double x) {
    double s = sum[j];
    double t = s + x;
    comp[j] += Math.abs(s) >= Math.abs(x) ? (s - t) + x : (x - t) + s;
    sum[j] = t;
  }

  /** Number of gradients added (over all merged accumulators). */
  public long count() {
    return count;
  }

  public int numParams() {
    return sum.length;
  }

  /**
   * The mean (1/count) sum g_j^2, each entry rounded to float precision (see the class comment for why).
   *
   * @throws IllegalStateException if nothing was added
   */
  public DiagonalFisher toDiagonal(String modelFingerprint) {
    if (count == 0) {
      throw new IllegalStateException("empirical Fisher of zero examples");
    }
    double[] v = new double[sum.length];
    for (int j = 0; j < v.length; j++) {
      v[j] = (float) ((sum[j] + comp[j]) / count);
    }
    return new DiagonalFisher(v, count, modelFingerprint);
  }

  /** The Fisher diagonal of {@code net} over every row of {@code s} (single process). */
  public static DiagonalFisher compute(MultiLayerNetwork net, ExampleSet s) {
    return accumulate(net, s).toDiagonal(NetworkBytes.fingerprint(net));
  }

  /** An accumulator holding the squared per-example gradients of every row of {@code s}. */
  public static EmpiricalFisher accumulate(MultiLayerNetwork net, ExampleSet s) {
    EmpiricalFisher f = new EmpiricalFisher((int) net.numParams());
    PerExampleGradients.forEach(net, s, (row, g) -> f.add(g));
    return f;
  }
}
