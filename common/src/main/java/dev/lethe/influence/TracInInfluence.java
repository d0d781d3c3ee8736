package dev.lethe.influence;

import dev.lethe.LetheInputException;
import dev.lethe.config.LetheConfig;
import dev.lethe.config.Options;
import dev.lethe.data.ExampleSet;
import dev.lethe.math.ConjugateGradient;
import dev.lethe.math.PerExampleGradients;
import dev.lethe.model.TrainingCheckpoints;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TracIn-CP (Pruthi, Liu, Kale, Sundararajan 2020, Eq. 3), over the training checkpoints theta_c of
 * {@link TrainingCheckpoints} with their learning rates lr_c:
 *
 * <pre>
 *   "tracin":         r(z) = -sum_c lr_c grad log p(z | theta_c) . grad log p(Fq | theta_c)
 *   "self-influence": r(z) =  sum_c lr_c ||grad log p(z | theta_c)||^2
 * </pre>
 *
 * <p>grad log p(Fq) is the SUM over the failures, as in linear influence. A gradient step on z changes log p(Fq) by
 * about lr grad log p(z) . grad log p(Fq) (TracIn's "proponents" raise it), so the minus sign ranks the examples
 * whose training steps lowered the likelihood of the failures first, like r(z) > 0 of EWC-influence. With one
 * checkpoint at theta_hat, tracin is linear influence with the identity as curvature and gamma = lr.
 * Self-influence is failure-agnostic: examples the model kept struggling to fit (large gradients, often
 * mislabelled) come first. Gradients are taken in double precision from the float checkpoints, row by row, so a
 * score does not depend on the partitioning; log p(z | theta_hat) (the last checkpoint) is reported.
 *
 * <p>{@link GradientNormalization#COSINE} ({@value #NORMALIZE_KEY} = cosine) is the renormalised TracIn of Hammoudeh
 * and Lowd ("Identifying a training-set attack's target using renormalized influence estimation", CCS 2022, GAS):
 *
 * <pre>
 *   "tracin", cosine: r(z) = -sum_c lr_c cos(grad log p(z | theta_c), grad log p(Fq | theta_c))
 * </pre>
 *
 * <p>Each training example's gradient is divided by its own norm at each checkpoint, so examples with large
 * gradients (outliers, hard or mislabelled rows) no longer dominate the ranking by magnitude alone; the summed
 * failure gradient is divided by its norm too, which rescales each checkpoint's term by a constant and so only
 * weighs the checkpoints equally (by lr_c). A zero gradient (either side) contributes 0 at that checkpoint. Each
 * checkpoint contributes at most lr_c in absolute value. The option applies to tracin only: self-influence with
 * cosine would be the constant sum_c lr_c, so self-influence ignores it.
 */
public final class TracInInfluence implements InfluenceMethod {
  private static final Logger LOG = LoggerFactory.getLogger(TracInInfluence.class);
  public static final String TRACIN = "tracin";
  public static final String SELF_INFLUENCE = "self-influence";
  /** Config key: how tracin normalises the checkpoint gradients. */
  public static final String NORMALIZE_KEY = "identify.tracin.normalize";

  private final boolean self;
  private final GradientNormalization normalize;

  private TracInInfluence(boolean self, GradientNormalization normalize) {
    if (normalize == null) {
      throw new IllegalArgumentException("normalize must be given");
    }
    this.self = self;
    this.normalize = normalize;
  }

  /** tracin with the plain dot product. */
  public static TracInInfluence tracin() {
    return new TracInInfluence(false, GradientNormalization.NONE);
  }

  /** tracin with the given normalisation. */
  public static TracInInfluence tracin(GradientNormalization normalize) {
    return new TracInInfluence(false, normalize);
  }

  /**
   * tracin with {@value #NORMALIZE_KEY} from {@code c}.
   *
   * @throws LetheInputException for a bad value, naming the key
   */
  public static TracInInfluence tracin(LetheConfig c) {
    return tracin(Options.valid(() -> GradientNormalization.parse(NORMALIZE_KEY, c.getString(NORMALIZE_KEY))));
  }

  public static TracInInfluence selfInfluence() {
    return new TracInInfluence(true, GradientNormalization.NONE);
  }

  /** The normalisation tracin applies (always {@link GradientNormalization#NONE} for self-influence). */
  public GradientNormalization normalize() {
    return normalize;
  }

  @Override
  public String name() {
    return self ? SELF_INFLUENCE : TRACIN;
  }

  @Override
  public PreparedInfluence prepare(InfluenceInputs in) {
    long t0 = System.nanoTime();
    TrainingCheckpoints cps = in.checkpoints();
    if (cps == null) {
      throw LetheInputException.of("%s needs the training checkpoints (train.checkpoints > 0 at the train stage)",
          name());
    }
    if (!self && in.query().size() == 0) {
      throw LetheInputException.of("%s: the failure set Fq is empty: nothing to explain", name());
    }
    int k = cps.size();
    double[] lr = new double[k];
    byte[][] params = new byte[k][];
    double[][] query = self ? null : new double[k][];
    Map<String, Object> diag = new LinkedHashMap<>();
    diag.put("method", name());
    if (!self) {
      diag.put("normalize", normalize.key());
    }
    List<Integer> epochs = new ArrayList<>();
    List<Double> queryNorms = new ArrayList<>();
    for (int c = 0; c < k; c++) {
      TrainingCheckpoints.Checkpoint cp = cps.checkpoints().get(c);
      lr[c] = cp.learningRate();
      params[c] = cp.params();
      epochs.add(cp.epoch());
      if (!self) {
        MultiLayerNetwork net = cps.network(c, DataType.DOUBLE);
        query[c] = PerExampleGradients.sumArray(net, in.query(), 256);
        queryNorms.add(ConjugateGradient.norm(query[c]));
      }
    }
    diag.put("checkpointEpochs", epochs);
    diag.put("learningRates", java.util.Arrays.stream(lr).boxed().toList());
    if (!self) {
      diag.put("queryGradientNorms", queryNorms);
    }
    long millis = (System.nanoTime() - t0) / 1_000_000;
    diag.put("prepareMillis", millis);
    LOG.info("{}: {} checkpoints (epochs {}) prepared in {} ms", name(), k, epochs, millis);
    return new PreparedInfluence(new Spec(cps.config(), params, lr, query, normalize, in.options().scoreBatchSize()),
        null, diag);
  }

  /** query == null: self-influence; normalize: how each checkpoint compares the two gradients. */
  private record Spec(byte[] config, byte[][] params, double[] lr, double[][] query, GradientNormalization normalize,
      int batchSize)
      implements ScorerSpec {
    private static final long serialVersionUID = 1L;

    @Override
    public Scorer open() {
      List<MultiLayerNetwork> nets = new ArrayList<>();
      for (byte[] p : params) {
        nets.add(dev.lethe.math.NetworkBytes.rebuild(config, p, DataType.DOUBLE));
      }
      return (ExampleSet block) -> {
        double[] score = new double[block.size()];
        double[] logp = new double[block.size()];
        for (int c = 0; c < nets.size(); c++) {
          double rate = lr[c];
          double[] q = query == null ? null : query[c];
          boolean last = c == nets.size() - 1;
          if (q == null) {
            // self-influence: the squared norms alone, summed where the fast path computes the gradients
            double[] gg = PerExampleGradients.squaredNorms(nets.get(c), block, last ? logp : null, batchSize);
            for (int row = 0; row < gg.length; row++) {
              score[row] += rate * gg[row];
            }
            continue;
          }
          if (normalize == GradientNormalization.NONE) {
            // the dot products alone: the fast path computes them without forming the gradients
            double[] d = last ? PerExampleGradients.dots(nets.get(c), block, q, logp, batchSize)
                : PerExampleGradients.dots(nets.get(c), block, q);
            for (int row = 0; row < d.length; row++) {
              score[row] -= rate * d[row];
            }
            continue;
          }
          // cosine: each gradient's dot product with q and its norm
          double qNorm = ConjugateGradient.norm(q);
          PerExampleGradients.Visitor add = (row, g) -> {
            double[] v = g.toDoubleVector();
            double s = 0;
            double vv = 0;
            for (int j = 0; j < v.length; j++) {
              s += q[j] * v[j];
              vv += v[j] * v[j];
            }
            score[row] -= rate * normalize.apply(s, vv, qNorm);
          };
          if (last) {
            PerExampleGradients.forEach(nets.get(c), block, logp, batchSize, add);
          } else {
            PerExampleGradients.forEach(nets.get(c), block, add);
          }
        }
        return new ScoredBlock(score, logp, ScoredBlock.nan(score.length));
      };
    }
  }
}
