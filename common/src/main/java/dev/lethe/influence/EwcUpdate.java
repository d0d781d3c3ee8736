package dev.lethe.influence;

import dev.lethe.Seeds;
import dev.lethe.data.ExampleSet;
import dev.lethe.model.EpochListener;
import dev.lethe.math.DiagonalFisher;
import dev.lethe.math.cnn.FastCnn;
import dev.lethe.math.LogLikelihood;
import dev.lethe.math.PerExampleGradients;
import dev.lethe.math.backend.BackendSelector;
import dev.lethe.math.backend.ModelBackend;
import dev.lethe.math.backend.Purpose;
import java.util.ArrayList;
import java.util.SplittableRandom;
import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The EWC-regularised Bayesian update of Tanno et al. 2022, Eq. 10: starting from theta_hat, maximise
 *
 * <pre>
 *   J(theta) = +/- mean_{z in target} log p(z | theta)
 *              - (N s / 2) sum_j F_j (theta_j - theta_hat_j)^2 - (lambda / 2) ||theta - theta_hat||^2,
 *   s = 2 / (gamma N),  i.e. the EWC term is (1 / gamma) sum_j F_j (theta_j - theta_hat_j)^2,
 * </pre>
 *
 * <p>with F the diagonal empirical Fisher at theta_hat over the N training examples (the Laplace approximation of
 * the posterior p(theta | D) has precision N F, and the update is one step of size s in the paper's
 * parameterisation). {@link Objective#LEARN} (+) adds the evidence of the target, e.g. the failures Fq for
 * EWC-influence; {@link Objective#UNLEARN} (-) removes it (EWC deletion of culprits). The data term is the MEAN
 * over the target (not the sum), so gamma is independent of |target|.
 *
 * <p>Optimiser: Adam(learningRate) on -J with seeded minibatches of the target, one manual step per batch
 * (the raw gradient from the backend {@link BackendSelector} chooses for {@link Purpose#OPTIMISER}; raw gradient / batch size, plus the penalty gradient (2/gamma F + lambda) (theta -
 * theta_hat), then the updater and params -= update). The early-stopping criterion is computed in double. The
 * copy being trained has the model's own
 * regularisation (L1/L2/weight decay), weight noise and gradient clipping removed, so exactly J is optimised.
 * Early stopping: J (or, with {@link EwcOptions.StopOn#ACCURACY}, the accuracy) is evaluated on a seeded validation
 * split of the target after every epoch (and at theta_hat); training stops after {@code patience} epochs without
 * improvement and the best parameters are returned. A
 * target of fewer than 10 rows (or validationFraction 0) is used for both training and validation.
 */
public final class EwcUpdate {
  private static final Logger LOG = LoggerFactory.getLogger(EwcUpdate.class);

  /** Targets smaller than this are not split for validation. */
  public static final int MIN_ROWS_FOR_VALIDATION_SPLIT = 10;

  private EwcUpdate() {}

  /** Sign of the data term. */
  public enum Objective {
    /** Maximise + mean log p(target): learn the target (identification, Eq. 10). */
    LEARN,
    /** Maximise - mean log p(target): forget the target (repair). */
    UNLEARN
  }

  /**
   * @param model the updated network (a new network; theta_hat is not modified)
   * @param epochsRun epochs trained
   * @param bestEpoch the epoch whose parameters were kept (0 = theta_hat itself)
   * @param bestValidationObjective J on the validation rows at the kept parameters
   * @param millis wall-clock time
   */
  public record Result(MultiLayerNetwork model, int epochsRun, int bestEpoch, double bestValidationObjective,
      long millis) {}

  /**
   * Runs the update. Deterministic: same inputs and seed give the same parameters.
   *
   * @param fisher the Fisher diagonal at theta_hat (size must equal the parameter count)
   * @param trainSize N, the number of training examples F was computed over
   */
  public static Result run(MultiLayerNetwork thetaHat, DiagonalFisher fisher, long trainSize, ExampleSet target,
      Objective obj, EwcOptions o, long seed) {
    return run(thetaHat, fisher, trainSize, target, obj, null, null, o, seed);
  }

  /**
   * As {@link #run(MultiLayerNetwork, DiagonalFisher, long, ExampleSet, Objective, EwcOptions, long)}, but early
   * stopping watches an explicit validation set instead of a split of the target: every target row is trained
   * on ({@code o.validationFraction()} is ignored) and the criterion is the DATA term alone, {@code +/- mean
   * log p(validation | theta)} with the sign of {@code validationObjective} (no penalty: the validation set
   * measures what the update is for, the penalty is only the update's regulariser). Used by EWC deletion
   * (Tanno et al. 2022, Eq. 15), which unlearns the culprits C and stops on the failures Fq
   * ({@link Objective#LEARN}). {@link Result#bestValidationObjective()} is that criterion.
   *
   * @param validation the rows early stopping evaluates (non-empty), or null for the target split
   * @param validationObjective the sign of the criterion on {@code validation} (ignored when it is null)
   */
  public static Result run(MultiLayerNetwork thetaHat, DiagonalFisher fisher, long trainSize, ExampleSet target,
      Objective obj, ExampleSet validation, Objective validationObjective, EwcOptions o, long seed) {
    return run(thetaHat, fisher, trainSize, target, obj, validation, validationObjective, o, seed, null);
  }

  /**
   * As {@link #run(MultiLayerNetwork, DiagonalFisher, long, ExampleSet, Objective, EwcOptions, long)}, with every
   * target row trained on and {@code listener} deciding after each epoch, and after each minibatch step within one
   * ({@link EpochListener#afterStep}), whether to go on (instead of early stopping on a validation split); at most
   * {@code o.maxEpochs()} epochs. The result holds the parameters at which the listener stopped the update, or the
   * last epoch's ({@link Result#bestEpoch()} = the last epoch begun, {@link Result#bestValidationObjective()} NaN).
   */
  public static Result run(MultiLayerNetwork thetaHat, DiagonalFisher fisher, long trainSize, ExampleSet target,
      Objective obj, EwcOptions o, long seed, EpochListener listener) {
    if (listener == null) {
      throw new IllegalArgumentException("an epoch listener must be given");
    }
    return run(thetaHat, fisher, trainSize, target, obj, null, null, o, seed, listener);
  }

  private static Result run(MultiLayerNetwork thetaHat, DiagonalFisher fisher, long trainSize, ExampleSet target,
      Objective obj, ExampleSet validation, Objective validationObjective, EwcOptions o, long seed,
      EpochListener listener) {
    long t0 = System.nanoTime();
    if (validation != null && (validation.size() == 0 || validationObjective == null)) {
      throw new IllegalArgumentException("an explicit validation set must be non-empty and have an objective");
    }
    PerExampleGradients.requireInferenceEquivalent(thetaHat);
    fisher.requireMatches(thetaHat.numParams(), null, "EWC update Fisher");
    if (trainSize < 1) {
      throw new IllegalArgumentException("trainSize must be >= 1, got " + trainSize);
    }
    if (target.size() == 0) {
      throw new IllegalArgumentException("EWC update on an empty target set");
    }
    MultiLayerNetwork net = trainableCopy(thetaHat, o.learningRate());
    DataType type = net.params().dataType();
    INDArray anchor = net.params().dup();
    // penalty gradient coefficient c = (2/gamma) F + lambda; penalty value = 0.5 sum c delta^2
    double[] coef = new double[fisher.size()];
    for (int j = 0; j < coef.length; j++) {
      coef[j] = 2.0 / o.gamma() * fisher.values()[j] + o.lambda();
    }
    INDArray c = Nd4j.createFromArray(coef).reshape(anchor.shape()).castTo(type);
    double sign = obj == Objective.LEARN ? 1.0 : -1.0;

    int n = target.size();
    int[] trainRows;
    int[] valRows;
    int nVal = (int) Math.round(o.validationFraction() * n);
    if (validation != null || listener != null) {
      trainRows = range(n);
      valRows = listener != null ? trainRows : null;
    } else if (n < MIN_ROWS_FOR_VALIDATION_SPLIT || nVal == 0 || nVal >= n) {
      trainRows = range(n);
      valRows = trainRows;
      LOG.info("EWC update: target of {} rows is not split; training and validating on all rows", n);
    } else {
      int[] perm = permutation(n, Seeds.derive(seed, "ewc.validation"));
      valRows = java.util.Arrays.copyOfRange(perm, 0, nVal);
      trainRows = java.util.Arrays.copyOfRange(perm, nVal, n);
      java.util.Arrays.sort(valRows);
    }
    ExampleSet val = validation != null ? validation : target.select(valRows);
    // explicit validation: data term only (zero penalty coefficients), with its own sign
    INDArray valCoef = validation != null ? Nd4j.zeros(type, anchor.shape()) : c;
    double valSign = validation == null ? sign : validationObjective == Objective.LEARN ? 1.0 : -1.0;
    int bs = Math.min(o.batchSize(), trainRows.length);

    double best = listener != null ? Double.NaN : criterion(net, val, anchor, valCoef, valSign, bs, o.stopOn());
    INDArray bestParams = net.params().dup();
    int bestEpoch = 0;
    int epoch = 0;
    int since = 0;
    int iteration = 0;
    LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
    // the raw gradient from the selected backend (the CNN fast path: single-precision GEMMs for a float network, as
    // DL4J's own arithmetic, double for a double one). One instance for every step: it reloads the parameters after
    // each update instead of allocating native arrays again.
    BackendSelector selector = BackendSelector.current();
    ModelBackend backend = selector.select(net, Purpose.OPTIMISER);
    // the flat step writes the parameters through host views of their buffers: only where ND4J computes on the host
    FlatStep flat = selector.fastPathAllowed() ? FlatStep.of(net.params(), anchor, c) : null;
    // Adam on the whole flat gradient in one op: what DL4J's updater applies block by block to the trainable copy
    // (every layer the same Adam(learningRate); no regularisation, gradient normalisation or, with a minibatch size
    // of 1, division), without its per-step bookkeeping (about 3 ms a step on the paper CNN). The same element-wise
    // op with the same hyperparameters and iteration, so the same values. Its state is not the network's updater
    // state, which model files do not keep.
    org.nd4j.linalg.learning.GradientUpdater<?> adam = flat == null ? null
        : new Adam(o.learningRate()).instantiate(Nd4j.zeros(type, 1, 2 * net.numParams()), true);
    while (epoch < o.maxEpochs() && (listener != null || since < o.patience())) {
      epoch++;
      int[] order = permutation(trainRows.length, Seeds.derive(seed, "ewc.shuffle", epoch));
      int steps = (order.length + bs - 1) / bs;
      boolean stoppedWithinEpoch = false;
      for (int from = 0; from < order.length && !stoppedWithinEpoch; from += bs) {
        int to = Math.min(order.length, from + bs);
        int[] rows = new int[to - from];
        for (int i = from; i < to; i++) {
          rows[i - from] = trainRows[order[i]];
        }
        ExampleSet batch = target.select(rows);
        if (iteration > 0) {
          backend.reloadParams();
        }
        Gradient gradient = backend.writeLossGradient(batch);
        INDArray g = gradient.gradient();
        // raw gradient = sum over the batch of d(-log p); gradient of -J = sign * raw / B + c .* delta
        if (flat != null && flat.fits(g)) {
          flat.penalise(g, sign / rows.length);
          adam.applyUpdater(g, iteration++, epoch);
          flat.step(g);
        } else {
          INDArray params = net.params();
          g.muli(sign / rows.length);
          g.addi(params.sub(anchor).muli(c).reshape(g.shape()));
          net.getUpdater().update(net, gradient, iteration++, epoch, 1, mgr);
          params.subi(g.reshape(params.shape()));
        }
        int step = from / bs + 1;
        if (listener != null && step < steps && !listener.afterStep(epoch, step, steps, net)) {
          stoppedWithinEpoch = true;
        }
      }
      if (stoppedWithinEpoch) {
        bestEpoch = epoch;
        break;
      }
      if (listener != null) {
        bestEpoch = epoch;
        if (!listener.afterEpoch(epoch, net)) {
          break;
        }
        continue;
      }
      double v = criterion(net, val, anchor, valCoef, valSign, bs, o.stopOn());
      if (!Double.isFinite(v)) {
        LOG.warn("EWC update: validation objective is {} at epoch {}; stopping", v, epoch);
        break;
      }
      if (v > best) {
        best = v;
        bestParams = net.params().dup();
        bestEpoch = epoch;
        since = 0;
      } else {
        since++;
      }
      LOG.debug("EWC update epoch {}: validation J {} (best {} at epoch {})", epoch, v, best, bestEpoch);
    }
    net.setInput(null);
    net.setLabels(null);
    if (listener == null) {
      net.setParams(bestParams);
    }
    long millis = (System.nanoTime() - t0) / 1_000_000;
    LOG.info("EWC update ({}): {} target rows, {} epochs, best epoch {}, validation J {}, {} ms", obj, n, epoch,
        bestEpoch, best, millis);
    return new Result(net, epoch, bestEpoch, best, millis);
  }

  /**
   * The per-step arithmetic around the updater, in Java over the network's contiguous float or double parameter and
   * gradient vectors: what ND4J's {@code g.muli(scale)}, {@code params.sub(anchor).muli(c)}, {@code g.addi(..)} and
   * {@code params.subi(g)} compute, element by element and each operation rounded to the network's precision (Java
   * float and double arithmetic is IEEE round-to-nearest, as libnd4j's element-wise loops), without the native
   * temporary and the five op calls, which cost 2.5-7.5 ms a step on the paper CNN against about 0.1 ms here.
   */
  static final class FlatStep {
    private final INDArray params;
    private final boolean isFloat;
    private final int n;
    private final float[] anchorF;
    private final float[] coefF;
    private final float[] pF;
    private final float[] gF;
    private final double[] anchorD;
    private final double[] coefD;
    private final double[] pD;
    private final double[] gD;

    private FlatStep(INDArray params, INDArray anchor, INDArray c) {
      this.params = params;
      this.isFloat = params.dataType() == DataType.FLOAT;
      this.n = (int) params.length();
      if (isFloat) {
        anchorF = anchor.data().asFloat();
        coefF = c.data().asFloat();
        pF = new float[n];
        gF = new float[n];
        anchorD = coefD = pD = gD = null;
      } else {
        anchorD = anchor.data().asDouble();
        coefD = c.data().asDouble();
        pD = new double[n];
        gD = new double[n];
        anchorF = coefF = pF = gF = null;
      }
    }

    /** For contiguous float or double vectors of one length and type (anchor and c as fresh arrays), else null. */
    static FlatStep of(INDArray params, INDArray anchor, INDArray c) {
      if (!FastCnn.isFlatVector(params) || !FastCnn.isFlatVector(anchor) || !FastCnn.isFlatVector(c)
          || anchor.offset() != 0 || c.offset() != 0
          || anchor.length() != params.length() || c.length() != params.length()
          || anchor.dataType() != params.dataType() || c.dataType() != params.dataType()
          || anchor.data().length() != params.length() || c.data().length() != params.length()) {
        return null;
      }
      return new FlatStep(params, anchor, c);
    }

    /** Whether {@code g} is a contiguous vector of the parameters' length and type. */
    boolean fits(INDArray g) {
      return FastCnn.isFlatVector(g) && g.length() == n && g.dataType() == params.dataType();
    }

    /** g <- g * scale + c .* (params - anchor). */
    void penalise(INDArray g, double scale) {
      if (isFloat) {
        java.nio.FloatBuffer gb = g.data().asNioFloat();
        gb.get((int) g.offset(), gF, 0, n);
        params.data().asNioFloat().get((int) params.offset(), pF, 0, n);
        float s = (float) scale;
        for (int j = 0; j < n; j++) {
          float d = (pF[j] - anchorF[j]) * coefF[j];
          gF[j] = gF[j] * s + d;
        }
        gb.put((int) g.offset(), gF, 0, n);
      } else {
        java.nio.DoubleBuffer gb = g.data().asNioDouble();
        gb.get((int) g.offset(), gD, 0, n);
        params.data().asNioDouble().get((int) params.offset(), pD, 0, n);
        for (int j = 0; j < n; j++) {
          double d = (pD[j] - anchorD[j]) * coefD[j];
          gD[j] = gD[j] * scale + d;
        }
        gb.put((int) g.offset(), gD, 0, n);
      }
    }

    /** params <- params - u (the updater's output). */
    void step(INDArray u) {
      if (isFloat) {
        u.data().asNioFloat().get((int) u.offset(), gF, 0, n);
        java.nio.FloatBuffer pb = params.data().asNioFloat();
        pb.get((int) params.offset(), pF, 0, n);
        for (int j = 0; j < n; j++) {
          pF[j] = pF[j] - gF[j];
        }
        pb.put((int) params.offset(), pF, 0, n);
      } else {
        u.data().asNioDouble().get((int) u.offset(), gD, 0, n);
        java.nio.DoubleBuffer pb = params.data().asNioDouble();
        pb.get((int) params.offset(), pD, 0, n);
        for (int j = 0; j < n; j++) {
          pD[j] = pD[j] - gD[j];
        }
        pb.put((int) params.offset(), pD, 0, n);
      }
    }
  }

  /** The early-stopping criterion on {@code rows}: J, or sign * the accuracy ({@link EwcOptions.StopOn}). */
  private static double criterion(MultiLayerNetwork net, ExampleSet rows, INDArray anchor, INDArray c, double sign,
      int batchSize, EwcOptions.StopOn stopOn) {
    return stopOn == EwcOptions.StopOn.ACCURACY ? sign * accuracyInDouble(net, rows, batchSize)
        : objective(net, rows, anchor, c, sign, batchSize);
  }

  /** The share of {@code rows} whose largest logit (computed in double; ties to the smaller class) is the label. */
  static double accuracyInDouble(MultiLayerNetwork net, ExampleSet rows, int batchSize) {
    double[][] z = LogLikelihood.logitsInDouble(net, rows, batchSize);
    int correct = 0;
    for (int i = 0; i < z.length; i++) {
      int arg = 0;
      for (int k = 1; k < z[i].length; k++) {
        if (z[i][k] > z[i][arg]) {
          arg = k;
        }
      }
      if (arg == rows.label(i)) {
        correct++;
      }
    }
    return z.length == 0 ? 0 : correct / (double) z.length;
  }

  /** J on {@code rows}: sign * mean log p - 0.5 sum c (theta - anchor)^2, in double. */
  private static double objective(MultiLayerNetwork net, ExampleSet rows, INDArray anchor, INDArray c,
      double sign, int batchSize) {
    double data = LogLikelihood.meanInDouble(net, rows, batchSize);
    double[] delta = net.params().sub(anchor).castTo(DataType.DOUBLE).toDoubleVector();
    double[] cc = c.castTo(DataType.DOUBLE).toDoubleVector();
    double pen = 0;
    for (int j = 0; j < delta.length; j++) {
      pen += cc[j] * delta[j] * delta[j];
    }
    return sign * data - 0.5 * pen;
  }

  /**
   * A new network with theta_hat's configuration and parameters, Adam(learningRate) on every layer, and no
   * regularisation, weight noise or gradient normalisation.
   */
  static MultiLayerNetwork trainableCopy(MultiLayerNetwork thetaHat, double learningRate) {
    MultiLayerConfiguration conf = thetaHat.getLayerWiseConfigurations().clone();
    for (NeuralNetConfiguration layerConf : conf.getConfs()) {
      if (layerConf.getLayer() instanceof BaseLayer l) {
        l.setIUpdater(new Adam(learningRate));
        l.setBiasUpdater(null);
        l.setRegularization(new ArrayList<>());
        l.setRegularizationBias(new ArrayList<>());
        l.setWeightNoise(null);
        l.setGradientNormalization(GradientNormalization.None);
      }
    }
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init(thetaHat.params().dup(), false);
    return net;
  }

  static int numClasses(MultiLayerNetwork net) {
    return (int) ((FeedForwardLayer) net.getLayerWiseConfigurations().getConf(net.getnLayers() - 1).getLayer())
        .getNOut();
  }

  static int[] range(int n) {
    int[] r = new int[n];
    for (int i = 0; i < n; i++) {
      r[i] = i;
    }
    return r;
  }

  /** A seeded Fisher-Yates permutation of 0..n-1. */
  static int[] permutation(int n, long seed) {
    int[] p = range(n);
    SplittableRandom rng = new SplittableRandom(seed);
    for (int i = n - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
}
