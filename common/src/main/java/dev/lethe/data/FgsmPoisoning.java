package dev.lethe.data;

import dev.lethe.Seeds;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * Targeted clean-label poisoning with the fast gradient sign method (Goodfellow, Shlens, Szegedy 2015), the FGSM
 * noise of the paper's Sec. 5 (Tanno et al. 2022).
 *
 * <p>An image x of class a is moved one signed step towards a target class b, {@code x' = clip(x - epsilon *
 * sign(grad_x CE(f(x), b)), 0, 1)}, and keeps its label a. A model trained on such images learns to associate
 * b-like features with a and misclassifies test images of b: the poisoned rows are the true culprits of those
 * failures.
 *
 * <p>f is a <b>surrogate</b>, not the network Lethe trains: a multinomial softmax regression {@code softmax(W x +
 * c)} with L2 penalty {@value #L2} on W, fitted here on the clean training set. The attack is white-box on this
 * linear surrogate and transferred to the CNN. Its input gradient is closed-form: {@code grad_x CE(f(x), b) = W^T
 * (softmax(W x + c) - onehot(b))}.
 *
 * <p>The fit is seeded minibatch SGD (batches of {@value #BATCH_SIZE}, step {@value #LEARNING_RATE} / (1 + epoch),
 * zero initialisation). Each epoch visits the rows in the order of a seeded hash of their id (ties by id), and
 * every sum runs in that order, so the surrogate depends only on the seed, the ids and the data, not on the row
 * order of the input, and reruns are bitwise identical.
 */
public final class FgsmPoisoning {
  /** Minibatch size of the surrogate's SGD. */
  public static final int BATCH_SIZE = 32;
  /** Initial SGD step of the surrogate; epoch e (from 0) uses LEARNING_RATE / (1 + e). */
  public static final double LEARNING_RATE = 0.1;
  /** L2 penalty (lambda/2) ||W||^2 of the surrogate (the biases are not penalised). */
  public static final double L2 = 1e-4;

  private FgsmPoisoning() {}

  /** A fitted softmax regression: logits {@code W x + c}. Immutable. */
  public static final class Surrogate {
    private final double[][] w;
    private final double[] c;

    private Surrogate(double[][] w, double[] c) {
      this.w = w;
      this.c = c;
    }

    public int numClasses() {
      return c.length;
    }

    public int numFeatures() {
      return w[0].length;
    }

    /** log softmax(W x + c). */
    public double[] logProbabilities(float[] x) {
      double[] z = new double[c.length];
      for (int k = 0; k < z.length; k++) {
        double s = c[k];
        double[] wk = w[k];
        for (int j = 0; j < wk.length; j++) {
          s += wk[j] * x[j];
        }
        z[k] = s;
      }
      double max = Arrays.stream(z).max().orElseThrow();
      double sum = 0;
      for (double v : z) {
        sum += Math.exp(v - max);
      }
      double log = max + Math.log(sum);
      for (int k = 0; k < z.length; k++) {
        z[k] -= log;
      }
      return z;
    }

    /** The class of largest probability (the smaller class on ties). */
    public int predict(float[] x) {
      double[] lp = logProbabilities(x);
      int best = 0;
      for (int k = 1; k < lp.length; k++) {
        best = lp[k] > lp[best] ? k : best;
      }
      return best;
    }

    /** Share of the rows whose {@link #predict prediction} equals their label. */
    public double accuracy(ExampleSet set) {
      long right = IntStream.range(0, set.size()).filter(i -> predict(set.features(i)) == set.label(i)).count();
      return set.size() == 0 ? 0 : (double) right / set.size();
    }

    /** {@code grad_x CE(f(x), target) = W^T (softmax(W x + c) - onehot(target))}. */
    public double[] inputGradient(float[] x, int target) {
      double[] r = residual(x, target);
      double[] g = new double[x.length];
      for (int k = 0; k < r.length; k++) {
        double[] wk = w[k];
        for (int j = 0; j < g.length; j++) {
          g[j] += r[k] * wk[j];
        }
      }
      return g;
    }

    /**
     * One targeted FGSM step: {@code clip(x - epsilon * sign(grad_x CE(f(x), target)), 0, 1)} (a pixel whose
     * gradient is exactly 0 is left as it is). A new array; x is not modified.
     */
    public float[] perturb(float[] x, int target, double epsilon) {
      double[] g = inputGradient(x, target);
      float[] out = new float[x.length];
      for (int j = 0; j < x.length; j++) {
        out[j] = (float) Math.min(1.0, Math.max(0.0, x[j] - epsilon * Math.signum(g[j])));
      }
      return out;
    }

    /** softmax(W x + c) - onehot(y). */
    private double[] residual(float[] x, int y) {
      double[] p = logProbabilities(x);
      for (int k = 0; k < p.length; k++) {
        p[k] = Math.exp(p[k]) - (k == y ? 1 : 0);
      }
      return p;
    }
  }

  /**
   * Fits the surrogate on {@code train} (its features and labels as given).
   *
   * @param epochs passes of minibatch SGD over the set, at least 1
   * @param seed decides the visiting order of each epoch
   */
  public static Surrogate fit(ExampleSet train, int numClasses, int epochs, long seed) {
    if (epochs < 1) {
      throw new IllegalArgumentException("surrogate epochs must be >= 1, got " + epochs);
    }
    int d = train.numFeatures();
    double[][] w = new double[numClasses][d];
    double[] c = new double[numClasses];
    Surrogate s = new Surrogate(w, c);
    double[][] gw = new double[numClasses][d];
    double[] gc = new double[numClasses];
    for (int epoch = 0; epoch < epochs; epoch++) {
      long order = Seeds.derive(seed, "surrogate.epoch", epoch);
      Integer[] rows = IntStream.range(0, train.size()).boxed().toArray(Integer[]::new);
      Arrays.sort(rows, Comparator.comparingLong((Integer i) -> Seeds.derive(order, "row", train.id(i)))
          .thenComparingLong(train::id));
      double step = LEARNING_RATE / (1 + epoch);
      for (int from = 0; from < rows.length; from += BATCH_SIZE) {
        int to = Math.min(rows.length, from + BATCH_SIZE);
        for (double[] g : gw) {
          Arrays.fill(g, 0);
        }
        Arrays.fill(gc, 0);
        for (int b = from; b < to; b++) {
          float[] x = train.features(rows[b]);
          double[] r = s.residual(x, train.label(rows[b]));
          for (int k = 0; k < numClasses; k++) {
            double[] g = gw[k];
            for (int j = 0; j < d; j++) {
              g[j] += r[k] * x[j];
            }
            gc[k] += r[k];
          }
        }
        double scale = step / (to - from);
        for (int k = 0; k < numClasses; k++) {
          double[] wk = w[k];
          double[] g = gw[k];
          for (int j = 0; j < d; j++) {
            wk[j] -= scale * g[j] + step * L2 * wk[j];
          }
          c[k] -= scale * gc[k];
        }
      }
    }
    return s;
  }
}
