package dev.lethe.math;

import dev.lethe.data.ExampleSet;
import java.nio.DoubleBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The forward pass (logits) and the loss gradient of a convolutional softmax classifier, computed without DL4J's
 * layer code: the hot paths of identify (the forward passes over every training example for EWC-influence scores,
 * and the minibatch gradients of the EWC update that finds theta*).
 *
 * <p>DL4J 1.0.0-M2.1's built-in convolution (no oneDNN helper on the default CPU build) writes its im2col matrix
 * into a permuted view and multiplies through {@code INDArray.mmul}, which for these shapes reaches 0.5-29 GFLOP/s
 * in double where BLAS {@code gemm} into a preallocated f-order result reaches 16-67 (measured on the 2-core CI
 * machine). Here a fixed group of {@value #GROUP} images is kept channel-major ({@code [c][image][y][x]}) in a Java
 * array; each convolution writes its im2col matrix in column-major order straight into a preallocated native matrix
 * (one bulk copy per image and kernel offset when the output is as wide as the input, as with {@code Same} padding;
 * one per output row otherwise) and multiplies it with the kernel by one {@code Nd4j.gemm}, whose f-order result is
 * again channel-major; bias, activation and pooling are plain loops over contiguous planes, a channel at a time
 * while it is in cache (a convolution followed by 2x2 max pooling is one fused op). Every GEMM has the same shape
 * whatever the number of rows scored (the last group is zero-padded), so a row's logits do not depend on which other
 * rows it was scored with. On the paper CNN this is 3.5x DL4J's forward pass ({@code ScoringPrecisionBench}, 3000
 * rows, one run, before the fused op and the native im2col).
 *
 * <p>Groups run on {@link #defaultThreads()} threads (the calling thread and a shared daemon pool), each GEMM on one
 * BLAS thread: on the driver (EWC update, training, curvature samples) both cores work on groups, in Spark tasks
 * (limited to one ND4J thread each) the groups run on the task's thread. Groups are fixed and combined in order, so
 * results do not depend on the thread count. Large per-group arrays come from pooled workspaces (reused across the
 * hundreds of small steps of an optimiser) rather than from the heap: the im2col matrix of a convolution is its own,
 * so the zeros of its padding are written once, and the backward pass reuses it. Parameters are read with one cast
 * of the flattened vector (an optimiser builds an instance per step).
 *
 * <p>The backward pass runs the same GEMMs transposed (kernel gradient {@code col^T dZ}, input gradient
 * {@code dZ W^T} read back a run at a time and scattered by col2im) in double precision, whatever the network's
 * type (except for {@link #forFloatGradients}: single-precision GEMMs for a float network's optimiser steps), and
 * writes the result into the network's flattened gradient view, where DL4J's updater takes it as from
 * {@code computeGradientAndScore}.
 *
 * <p>Supported networks (anything else makes {@link #of} return empty, and callers use DL4J's forward pass): a
 * {@link FeedForwardToCnnPreProcessor} on the first layer and no other preprocessor; 2D convolutions (NCHW, stride 1,
 * dilation 1, {@code Same} or explicit padding, bias, ReLU or identity); max or average subsampling without padding
 * in {@code Truncate} mode; global average or max pooling; dense layers with ReLU or identity; a softmax output layer.
 * The paper CNN is of this form. Logits and gradients match DL4J's to rounding (tested at 1e-10 and 1e-9).
 */
public final class FastCnn {
  /** Images per GEMM when scoring: large enough for BLAS efficiency, small enough to stay in cache. */
  static final int GROUP = 16;

  private final MultiLayerNetwork net;
  private final List<Op> ops;
  private final int height;
  private final int width;
  private final int channels;
  private final int numClasses;
  /** Per op: the flattened-parameter index of each entry of its gradient (null: no parameters). */
  private final int[][] maps;
  /**
   * Index maps by network and layer (a network's parameter layout never changes), so that the instances an optimiser
   * builds after every step do not probe the layout again.
   */
  private static final Map<MultiLayerNetwork, Map<Integer, int[]>> INDEX_MAPS =
      java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());
  private double lastLoss = Double.NaN;
  /** Threads for groups of images; 0 = {@link #defaultThreads()}. */
  private int threads;
  /** The forward pass with {@link VectorConv}'s direct convolutions, or null (see {@link #directKernels}). */
  private DirectPlan direct;

  private FastCnn(MultiLayerNetwork net, List<Op> ops, int height, int width, int channels, int numClasses) {
    this.net = net;
    this.ops = ops;
    this.maps = new int[ops.size()][];
    for (int i = 0; i < ops.size(); i++) {
      if (ops.get(i).layer() >= 0) {
        maps[i] = layerMap(net, ops.get(i).layer()).orElseThrow();
      }
    }
    this.height = height;
    this.width = width;
    this.channels = channels;
    this.numClasses = numClasses;
    this.direct = DirectPlan.of(ops, height, width, channels).orElse(null);
  }

  /**
   * The fast forward pass of {@code net}, or empty when its parameters are not double precision (float networks
   * keep DL4J's float arithmetic when scored) or a layer is not of a supported kind (see the class comment). The
   * parameters are copied: later changes to {@code net} are not seen.
   */
  public static Optional<FastCnn> of(MultiLayerNetwork net) {
    return net.params().dataType() == DataType.DOUBLE ? build(net, DataType.DOUBLE) : Optional.empty();
  }

  /**
   * The fast forward and backward pass of {@code net} in float or double precision (computed in double), or empty
   * when a layer is not of a supported kind. The parameters are copied: build a new one after each update.
   */
  public static Optional<FastCnn> forGradients(MultiLayerNetwork net) {
    DataType t = net.params().dataType();
    return t == DataType.DOUBLE || t == DataType.FLOAT ? build(net, DataType.DOUBLE) : Optional.empty();
  }

  /**
   * For a float network, its forward and backward pass with single-precision GEMMs: the im2col matrices, kernels and
   * GEMM results are float (as in DL4J's own float arithmetic), activations, pooling and sums double; about twice
   * the GEMM rate of {@link #forGradients}, whose results it matches to float precision. Empty for other networks
   * or unsupported layers. For the many minibatch steps of an optimiser (the EWC update, {@link #fitStep}); criteria
   * that must be exact use {@link #forGradients}.
   */
  public static Optional<FastCnn> forFloatGradients(MultiLayerNetwork net) {
    return net.params().dataType() == DataType.FLOAT ? build(net, DataType.FLOAT) : Optional.empty();
  }

  private static Optional<FastCnn> build(MultiLayerNetwork net, DataType gemmType) {
    MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
    if (!(conf.getInputPreProcess(0) instanceof FeedForwardToCnnPreProcessor pre)) {
      return Optional.empty();
    }
    int h = (int) pre.getInputHeight();
    int w = (int) pre.getInputWidth();
    int c = (int) pre.getNumChannels();
    int height = h;
    int width = w;
    int channels = c;
    boolean flat = false;
    List<Op> ops = new ArrayList<>();
    int n = net.getnLayers();
    // every parameter in double, from one cast of the flattened vector (not one per array)
    double[] params = flatParams(net);
    for (int i = 0; i < n - 1; i++) {
      if (i > 0 && conf.getInputPreProcess(i) != null) {
        return Optional.empty();
      }
      Layer l = conf.getConf(i).getLayer();
      if (!flat && l instanceof ConvolutionLayer cl && cl.getClass() == ConvolutionLayer.class) {
        Optional<double[]> wb = layerParams(net, i, params);
        Optional<Conv> op = wb.isEmpty() ? Optional.empty() : Conv.of(i, cl, wb.get(), h, w, c, gemmType);
        if (op.isEmpty()) {
          return Optional.empty();
        }
        ops.add(op.get());
        h = op.get().outH;
        w = op.get().outW;
        c = op.get().cOut;
      } else if (!flat && l instanceof SubsamplingLayer sl && sl.getClass() == SubsamplingLayer.class) {
        Optional<Pool> op = Pool.of(ops.size(), sl, h, w, c);
        if (op.isEmpty()) {
          return Optional.empty();
        }
        ops.add(op.get());
        h = op.get().outH;
        w = op.get().outW;
      } else if (!flat && l instanceof GlobalPoolingLayer gl) {
        boolean max = gl.getPoolingType() == PoolingType.MAX;
        int[] dims = gl.getPoolingDimensions();
        if (!(max || gl.getPoolingType() == PoolingType.AVG) || !gl.isCollapseDimensions()
            || !(dims == null || java.util.Arrays.equals(dims, new int[] {2, 3}))) {
          return Optional.empty();
        }
        ops.add(new GlobalPool(h * w, c, max));
        flat = true;
      } else if (flat && l instanceof DenseLayer dl && dl.getClass() == DenseLayer.class) {
        Optional<Boolean> relu = reluOrIdentity(dl.getActivationFn());
        if (relu.isEmpty() || dl.getNIn() != c) {
          return Optional.empty();
        }
        Optional<double[]> wb = layerParams(net, i, params);
        if (wb.isEmpty()) {
          return Optional.empty();
        }
        ops.add(Dense.of(i, wb.get(), c, (int) dl.getNOut(), relu.get()));
        c = (int) dl.getNOut();
      } else {
        return Optional.empty();
      }
    }
    Layer last = conf.getConf(n - 1).getLayer();
    if (!flat || !(last instanceof OutputLayer ol) || ol.getNIn() != c || n < 2) {
      return Optional.empty();
    }
    LogLikelihood.requireSoftmaxOutput(net);
    int k = (int) ol.getNOut();
    Optional<double[]> wb = layerParams(net, n - 1, params);
    if (wb.isEmpty()) {
      return Optional.empty();
    }
    ops.add(Dense.of(n - 1, wb.get(), c, k, false));
    // a convolution followed by 2x2 max pooling runs as one op
    for (int i = ops.size() - 2; i >= 0; i--) {
      if (ops.get(i) instanceof Conv conv && ops.get(i + 1) instanceof Pool pool && pool.max2x2()) {
        ops.set(i, new ConvPool(conv, pool));
        ops.remove(i + 1);
      }
    }
    return Optional.of(new FastCnn(net, List.copyOf(ops), height, width, channels, k));
  }

  /**
   * Every parameter of {@code net} in double, in DL4J's flattened order: read straight from the contiguous float or
   * double vector (exact), else from one cast of it.
   */
  private static double[] flatParams(MultiLayerNetwork net) {
    INDArray p = net.params();
    if (isFlatVector(p)) {
      double[] v = new double[(int) p.length()];
      Nat.of(p).get((int) p.offset(), v, 0, v.length);
      return v;
    }
    return (p.dataType() == DataType.DOUBLE ? p : p.castTo(DataType.DOUBLE)).toDoubleVector();
  }

  /**
   * Whether {@code a} is a float or double vector whose elements lie in order in its buffer from {@code a.offset()}
   * on (element-wise stride 1), so it can be read and written through the buffer's NIO view, as the flattened
   * parameter and gradient vectors of a network are.
   */
  public static boolean isFlatVector(INDArray a) {
    return (a.ordering() == 'c' || a.isVector()) && a.elementWiseStride() == 1
        && (a.dataType() == DataType.FLOAT || a.dataType() == DataType.DOUBLE);
  }

  /**
   * Reloads the network's current parameters into this instance (its kernels, weights and biases are copies made
   * when it was built), so an optimiser can keep one instance for all its steps instead of building one after each
   * update: afterwards it computes what a newly built instance would, bit for bit, without allocating native arrays.
   */
  public void reloadParams() {
    double[] params = flatParams(net);
    for (Op op : ops) {
      if (op.layer() >= 0) {
        op.load(layerParams(net, op.layer(), params).orElseThrow());
      }
    }
  }

  /**
   * The logits of rows {@code [from, to)} of {@code s}, one row per example: with {@link VectorConv}'s direct
   * convolutions when {@link #usesDirectKernels}, else with im2col and BLAS GEMMs (they agree to rounding).
   */
  public double[][] logits(ExampleSet s, int from, int to) {
    if (from < 0 || to > s.size() || from > to) {
      throw new IllegalArgumentException("rows [" + from + ", " + to + ") are outside [0, " + s.size() + ")");
    }
    checkFeatures(s);
    double[][] out = new double[to - from][];
    int groups = (to - from + GROUP - 1) / GROUP;
    inWaves(groups, (i, ws) -> {
      int g0 = from + i * GROUP;
      int g1 = Math.min(to, g0 + GROUP);
      if (direct != null) {
        return direct.forward(s, g0, g1, ws);
      }
      double[] a = input(s, g0, g1, GROUP);
      for (Op op : ops) {
        a = op.forward(a, GROUP, ws, null);
      }
      return a;
    }, (i, a) -> {
      int g0 = from + i * GROUP;
      for (int r = g0; r < Math.min(to, g0 + GROUP); r++) {
        out[r - from] = java.util.Arrays.copyOfRange(a, (r - g0) * numClasses, (r - g0 + 1) * numClasses);
      }
    });
    return out;
  }

  /**
   * Whether {@link #logits} runs every convolution of this network with {@link VectorConv}'s direct kernels: the
   * kernels are available ({@link #directKernels}), the network is double precision, each convolution's output
   * channels are a multiple of {@link #directChannelBlock()}, every subsampling layer is a 2x2 max pooling right
   * after a convolution, and global pooling follows the last convolution.
   */
  public boolean usesDirectKernels() {
    return direct != null;
  }

  /** This instance with im2col and BLAS GEMMs in {@link #logits} (to compare the two paths in one JVM). */
  FastCnn withoutDirectKernels() {
    direct = null;
    return this;
  }

  /** Whether {@link VectorConv}'s direct convolution kernels are available in this JVM (see {@link #kernels()}). */
  public static boolean directKernels() {
    return DirectKernels.AVAILABLE;
  }

  /**
   * The output channels a convolution needs a multiple of for the direct kernels (4 vectors of doubles: 32 with
   * 512-bit vectors, 16 with 256-bit), or 0 when they are not available.
   */
  public static int directChannelBlock() {
    return DirectKernels.AVAILABLE ? DirectKernels.CHANNEL_BLOCK : 0;
  }

  /**
   * The convolution kernels the forward pass of a supported double network uses in this JVM, for logs and
   * benchmark provenance: {@code direct (Vector API, N-bit)} or {@code im2col + BLAS GEMM (...why)}.
   */
  public static String kernels() {
    return DirectKernels.DESCRIPTION;
  }

  /**
   * The gradient of {@code sum_i -log p(y_i | x_i)} over all rows of {@code batch} (one forward and backward pass,
   * in double), written into the network's flattened gradient view in DL4J's parameter layout, as
   * {@code computeGradientAndScore} would (no regularisation terms: the caller adds its own).
   *
   * @return the flattened gradient view that now holds the gradient
   */
  public INDArray writeLossGradient(ExampleSet batch) {
    return lossAndGradient(batch);
  }

  /** The summed loss {@code sum_i -log p(y_i | x_i)} of the last {@link #writeLossGradient} call (NaN before). */
  public double lastLoss() {
    return lastLoss;
  }

  private INDArray lossAndGradient(ExampleSet batch) {
    return writeFlat(lossGradient(batch), null);
  }

  /**
   * As {@link #writeLossGradient}, but the gradient is returned as a new array in DL4J's flattened parameter order
   * (in double, before any rounding to the network's type) and not written into the network.
   */
  public double[] lossGradient(ExampleSet batch) {
    checkFeatures(batch);
    int n = batch.size();
    if (n == 0) {
      throw new IllegalArgumentException("the batch is empty");
    }
    // chunks of GROUP rows (the last one smaller, unpadded), summed in chunk order: the same sum for any thread count
    double[] sum = new double[(int) net.numParams()];
    double[] loss = {0.0};
    inWaves((n + GROUP - 1) / GROUP, (i, ws) -> {
      int from = i * GROUP;
      int to = Math.min(n, from + GROUP);
      return backprop(batch, from, to, to - from, false, ws);
    }, (i, t) -> {
      double[] gi = flatGradient(t, 0);
      for (int j = 0; j < sum.length; j++) {
        sum[j] += gi[j];
      }
      loss[0] += t.loss;
    });
    lastLoss = loss[0];
    return sum;
  }

  /**
   * Whether {@link #fitStep} reproduces {@code net.fit(DataSet)} for {@code net}: a supported architecture, no
   * dropout, weight noise, regularisation, gradient normalisation or constraints on any layer.
   */
  public static boolean canTrain(MultiLayerNetwork net) {
    for (int i = 0; i < net.getnLayers(); i++) {
      Layer l = net.getLayerWiseConfigurations().getConf(i).getLayer();
      if (l.getIDropout() != null || l.getConstraints() != null && !l.getConstraints().isEmpty()) {
        return false;
      }
      if (l instanceof BaseLayer b && (b.getWeightNoise() != null || !b.getRegularization().isEmpty()
          || !b.getRegularizationBias().isEmpty() || b.getGradientNormalization() != null
          && b.getGradientNormalization() != org.deeplearning4j.nn.conf.GradientNormalization.None)) {
        return false;
      }
    }
    return forGradients(net).isPresent();
  }

  /**
   * One optimiser step on {@code batch}, as {@code net.fit(DataSet)} takes it (DL4J's updater on the gradient of
   * the mean loss, parameters minus the update, iteration count plus one), with the gradient from this class's
   * backward pass. Callers check {@link #canTrain} first.
   *
   * @return the mean loss over the batch before the step (what {@code net.score()} reports after a fit)
   */
  public static double fitStep(MultiLayerNetwork net, ExampleSet batch) {
    // a float network's step in single-precision GEMMs, as DL4J's own float arithmetic
    FastCnn fast = forFloatGradients(net).or(() -> forGradients(net))
        .orElseThrow(() -> new IllegalArgumentException("unsupported network"));
    INDArray g = fast.lossAndGradient(batch);
    net.getUpdater().update(net, new org.deeplearning4j.nn.gradient.DefaultGradient(g), net.getIterationCount(),
        net.getEpochCount(), batch.size(), org.deeplearning4j.nn.workspace.LayerWorkspaceMgr.noWorkspaces());
    net.params().subi(g.reshape(net.params().shape()));
    net.getLayerWiseConfigurations().setIterationCount(net.getIterationCount() + 1);
    return fast.lastLoss / batch.size();
  }

  /**
   * Calls {@code v} with grad log p(y_i | x_i) for every row i of {@code s}, in row order, as
   * {@link PerExampleGradients#forEach} does: each gradient is written into the network's flattened gradient view
   * ({@code [1, numParams]}, the network's data type), which the next row overwrites. Rows go through the forward
   * and backward pass in zero-padded groups of {@value #GROUP}, so a row's gradient does not depend on the other
   * rows; the per-example kernel gradients are one small GEMM per image and convolution.
   */
  public void forEachExampleGradient(ExampleSet s, PerExampleGradients.Visitor v) {
    forEachExampleGradient(s, null, v);
  }

  /**
   * As {@link #forEachExampleGradient(ExampleSet, PerExampleGradients.Visitor)}, and writes each row's
   * log p(y_i | x_i) into {@code logLik[i]} (when not null) before its gradient is visited: the log-softmax of the
   * logits in double, as {@link LogLikelihood} computes it, and to the bit the value a later scoring pass
   * ({@link #logits}) gives. With the direct kernels ({@link #usesDirectKernels}), whose sums are rounded differently
   * from the gradient pass's GEMMs, they come from a scoring pass over {@code s} first (one more forward pass, at
   * the direct kernels' rate); otherwise from the gradient's own forward pass.
   */
  public void forEachExampleGradient(ExampleSet s, double[] logLik, PerExampleGradients.Visitor v) {
    checkFeatures(s);
    if (logLik != null) {
      PerExampleGradients.requireOnePerRow(logLik, s);
    }
    double[] flat = new double[(int) net.numParams()];
    float[] floatCopy = new float[flat.length];
    // the scoring pass's values, so that log p(z | theta) recorded here cancels exactly against a later score
    double[] scored = logLik != null && direct != null ? LogLikelihood.perExample(this, s) : null;
    inWaves((s.size() + GROUP - 1) / GROUP, (i, ws) -> {
      int g0 = i * GROUP;
      return backprop(s, g0, Math.min(s.size(), g0 + GROUP), GROUP, true, ws);
    }, (i, t) -> {
      int g0 = i * GROUP;
      for (int r = g0; r < Math.min(s.size(), g0 + GROUP); r++) {
        if (logLik != null) {
          logLik[r] = scored != null ? scored[r] : t.logLik[r - g0];
        }
        // one flat array (and one float copy) for all rows: each row's gradient overwrites the last one's
        v.accept(r, writeFlat(flatGradient(t, r - g0, -1.0, flat), floatCopy));
      }
    });
  }

  /**
   * This instance with {@code threads} threads for groups of images (0 = {@link #defaultThreads()}). Results do not
   * depend on it: groups are fixed, independent and combined in order.
   */
  public FastCnn withThreads(int threads) {
    if (threads < 0) {
      throw new IllegalArgumentException("threads must be >= 0, got " + threads);
    }
    this.threads = threads;
    return this;
  }

  /**
   * The default thread count: ND4J's process-wide limit on outer-loop threads ({@code maxMasterThreads}), at most
   * the available cores. Spark tasks limit it to {@code spark.nd4j-task-threads} (1 by default: executors already
   * run a task per core), so groups are parallel on the driver (EWC update, training, curvature samples) and
   * sequential inside tasks.
   */
  public static int defaultThreads() {
    int env = Nd4j.getEnvironment().maxMasterThreads();
    return Math.max(1, Math.min(env, Runtime.getRuntime().availableProcessors()));
  }

  private int threads() {
    return threads > 0 ? threads : defaultThreads();
  }

  /** One group's work, given a workspace no other thread uses meanwhile. */
  private interface GroupJob<T> {
    T run(int group, Workspace ws);
  }

  /** Takes one group's result on the calling thread, in group order. */
  private interface GroupSink<T> {
    void accept(int group, T result);
  }

  /**
   * Runs {@code job} for groups {@code 0..n-1} in waves of {@link #threads()} groups (the calling thread takes the
   * first of each wave, pool threads the rest) and passes each result to {@code sink} in group order on the calling
   * thread, so at most one wave's results are held. BLAS runs every GEMM on the calling thread alone (its threaded
   * kernels round the weight gradient's long sums differently), so results do not depend on the thread count.
   */
  private <T> void inWaves(int n, GroupJob<T> job, GroupSink<T> sink) {
    int t = Math.max(1, Math.min(threads(), n));
    Workspace[] ws = new Workspace[t];
    for (int k = 0; k < t; k++) {
      ws[k] = Workspace.acquire();
    }
    Parallel.enter();
    try {
      if (t == 1) {
        for (int i = 0; i < n; i++) {
          sink.accept(i, job.run(i, ws[0]));
        }
        return;
      }
      List<Future<T>> pending = new ArrayList<>(t - 1);
      for (int w0 = 0; w0 < n; w0 += t) {
        int w1 = Math.min(n, w0 + t);
        pending.clear();
        for (int i = w0 + 1; i < w1; i++) {
          int group = i;
          Workspace w = ws[i - w0];
          pending.add(Parallel.POOL.submit(() -> job.run(group, w)));
        }
        try {
          sink.accept(w0, job.run(w0, ws[0]));
          for (int i = w0 + 1; i < w1; i++) {
            sink.accept(i, Parallel.join(pending.get(i - w0 - 1)));
          }
        } catch (RuntimeException | Error e) {
          // no pool thread may still be using a workspace when it goes back to the pool
          Parallel.awaitQuietly(pending);
          throw e;
        }
      }
    } finally {
      Parallel.exit();
      for (Workspace w : ws) {
        Workspace.release(w);
      }
    }
  }

  /** The shared daemon pool, and BLAS single-threaded while any FastCnn section runs (its setting is global). */
  private static final class Parallel {
    private static final AtomicInteger NEXT = new AtomicInteger();
    static final ExecutorService POOL = Executors.newCachedThreadPool(r -> {
      Thread th = new Thread(r, "lethe-fastcnn-" + NEXT.incrementAndGet());
      th.setDaemon(true);
      return th;
    });
    private static int sections;
    private static int savedBlasThreads;

    static synchronized void enter() {
      if (sections++ == 0) {
        savedBlasThreads = Nd4j.factory().blas().getMaxThreads();
        Nd4j.factory().blas().setMaxThreads(1);
      }
    }

    static synchronized void exit() {
      if (--sections == 0) {
        Nd4j.factory().blas().setMaxThreads(savedBlasThreads);
      }
    }

    /** Waits for every task in {@code fs} to end, ignoring their results and failures. */
    static void awaitQuietly(List<? extends Future<?>> fs) {
      fs.forEach(dev.lethe.Futures::awaitQuietly);
    }

    static <T> T join(Future<T> f) {
      return dev.lethe.Futures.join(f, "a group of images");
    }
  }

  /** Forward and backward pass of rows [from, to) as a group of {@code group} images (padded rows: zero loss). */
  private Trace backprop(ExampleSet s, int from, int to, int group, boolean perExample, Workspace ws) {
    Trace t = new Trace(ops.size(), perExample, group);
    double[] a = input(s, from, to, group);
    for (int i = 0; i < ops.size(); i++) {
      t.inputs[i] = a;
      a = ops.get(i).forward(a, group, ws, t.at(i));
      t.outputs[i] = a;
    }
    // d(-log softmax(z)_y)/dz = softmax(z) - onehot(y); zero for the padding rows
    int[] labels = s.labels();
    double[] d = new double[group * numClasses];
    for (int r = 0; r < to - from; r++) {
      int base = r * numClasses;
      double max = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < numClasses; j++) {
        max = Math.max(max, a[base + j]);
      }
      double sum = 0;
      for (int j = 0; j < numClasses; j++) {
        d[base + j] = Math.exp(a[base + j] - max);
        sum += d[base + j];
      }
      for (int j = 0; j < numClasses; j++) {
        d[base + j] /= sum;
      }
      int y = labels[from + r];
      double logp = a[base + y] - max - Math.log(sum);
      t.loss -= logp;
      if (perExample) {
        t.logLik[r] = logp;
      }
      d[base + y] -= 1.0;
    }
    for (int i = ops.size() - 1; i >= 0; i--) {
      d = ops.get(i).backward(d, group, ws, t.at(i), t.inputs[i], t.outputs[i], i > 0);
    }
    return t;
  }

  /** Image {@code image}'s parameter gradient (or the group's sum) in the network's flattened order. */
  private double[] flatGradient(Trace t, int image) {
    return flatGradient(t, image, 1.0, new double[(int) net.numParams()]);
  }

  /**
   * Image {@code image}'s parameter gradient (or the group's sum) times {@code scale}, in the network's flattened
   * order, into {@code flat} (every entry written) and returned.
   */
  private double[] flatGradient(Trace t, int image, double scale, double[] flat) {
    java.util.Arrays.fill(flat, 0.0);
    for (int i = 0; i < ops.size(); i++) {
      double[][] grads = t.paramGrads[i];
      if (grads != null) {
        double[] gi = grads[t.perExample ? image : 0];
        int[] map = maps[i];
        for (int j = 0; j < map.length; j++) {
          flat[map[j]] = scale * gi[j]; // exact for the scales used, 1 and -1
        }
      }
    }
    return flat;
  }

  /**
   * Writes {@code flat} into the network's flattened gradient view and returns the view; {@code floatCopy} (of
   * {@code flat}'s length, or null) is reused for a float view's conversion.
   */
  private INDArray writeFlat(double[] flat, float[] floatCopy) {
    if (net.getFlattenedGradients() == null) {
      net.initGradientsView();
    }
    INDArray g = net.getFlattenedGradients();
    if (isFlatVector(g) && g.length() == flat.length) {
      // straight into the view's memory (it is contiguous), without a temporary array and a cast op
      long offset = g.offset();
      if (g.dataType() == DataType.DOUBLE) {
        DoubleBuffer b = g.data().asNioDouble();
        b.position((int) offset);
        b.put(flat);
      } else {
        float[] f = floatCopy != null ? floatCopy : new float[flat.length];
        for (int j = 0; j < flat.length; j++) {
          f[j] = (float) flat[j];
        }
        java.nio.FloatBuffer b = g.data().asNioFloat();
        b.position((int) offset);
        b.put(f);
      }
      return g;
    }
    g.assign(Nd4j.create(flat, g.shape(), 'c').castTo(g.dataType()));
    return g;
  }

  /**
   * For layer {@code layer} of {@code net}, the flattened-parameter index of each entry of {@code W} (in DL4J's
   * c-order shape) and then of {@code b}, read off DL4J's own gradient views of an index-valued probe array (the
   * gradient view has the parameters' layout); empty when the layer's parameters are not exactly W and b.
   */
  private static Optional<int[]> layerMap(MultiLayerNetwork net, int layer) {
    Map<Integer, int[]> known = INDEX_MAPS.computeIfAbsent(net, k -> new java.util.concurrent.ConcurrentHashMap<>());
    int[] cached = known.get(layer);
    if (cached != null) {
      return cached.length == 0 ? Optional.empty() : Optional.of(cached);
    }
    MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
    long offset = 0;
    for (int l = 0; l < layer; l++) {
      offset += conf.getConf(l).getLayer().initializer().numParams(conf.getConf(l));
    }
    org.deeplearning4j.nn.conf.NeuralNetConfiguration lc = conf.getConf(layer);
    long n = lc.getLayer().initializer().numParams(lc);
    INDArray probe = Nd4j.create(DataType.DOUBLE, new long[] {1, n}, 'f');
    probe.assign(Nd4j.linspace(offset, offset + n - 1, n, DataType.DOUBLE).reshape(1, n));
    Map<String, INDArray> views = lc.getLayer().initializer().getGradientsFromFlattened(lc, probe);
    int[] map = new int[0];
    if (views.keySet().equals(java.util.Set.of("W", "b"))) {
      double[] w = views.get("W").dup('c').reshape(-1).toDoubleVector();
      double[] b = views.get("b").dup('c').reshape(-1).toDoubleVector();
      map = new int[w.length + b.length];
      for (int j = 0; j < w.length; j++) {
        map[j] = (int) Math.round(w[j]);
      }
      for (int j = 0; j < b.length; j++) {
        map[w.length + j] = (int) Math.round(b[j]);
      }
    }
    known.put(layer, map);
    return map.length == 0 ? Optional.empty() : Optional.of(map);
  }

  /** Layer {@code layer}'s parameters: W in DL4J's c-order shape, then b ({@code flat}: all, in double). */
  private static Optional<double[]> layerParams(MultiLayerNetwork net, int layer, double[] flat) {
    return layerMap(net, layer).map(map -> {
      double[] v = new double[map.length];
      for (int j = 0; j < v.length; j++) {
        v[j] = flat[map[j]];
      }
      return v;
    });
  }

  private void checkFeatures(ExampleSet s) {
    int d = height * width * channels;
    if (s.numFeatures() != d) {
      throw new IllegalArgumentException("the network takes " + d + " features per row, the rows have "
          + s.numFeatures());
    }
  }

  /** Rows {@code [from, to)} as a channel-major group of {@code group} images (zero-padded). */
  private double[] input(ExampleSet s, int from, int to, int group) {
    int hw = height * width;
    double[] dst = new double[group * hw * channels];
    float[][] f = s.features();
    for (int r = from; r < to; r++) {
      float[] row = f[r];
      int g = r - from;
      for (int ch = 0; ch < channels; ch++) {
        int o = (ch * group + g) * hw;
        for (int p = 0; p < hw; p++) {
          dst[o + p] = row[ch * hw + p];
        }
      }
    }
    return dst;
  }

  /**
   * Whether {@link VectorConv} runs here: the JVM has the incubating module {@code jdk.incubator.vector} (started with
   * {@code --add-modules jdk.incubator.vector}, as {@code bin/lethe}, the tests and the deploy scripts do) and the
   * system property {@value #PROPERTY} is not {@code false}. Decided once, when first asked.
   */
  private static final class DirectKernels {
    static final String PROPERTY = "lethe.vector-kernels";
    static final boolean AVAILABLE;
    static final int CHANNEL_BLOCK;
    static final String DESCRIPTION;

    static {
      boolean ok = false;
      int block = 1;
      String why;
      if ("false".equalsIgnoreCase(System.getProperty(PROPERTY, "true").trim())) {
        why = "-D" + PROPERTY + "=false";
      } else if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
        why = "jdk.incubator.vector is not in this JVM: start it with --add-modules jdk.incubator.vector";
      } else {
        why = null;
        try {
          block = VectorConv.channelBlock();
          ok = VectorConv.lanes() >= 2;
          if (!ok) {
            why = "the Vector API has " + VectorConv.lanes() + " double a vector here";
          }
        } catch (LinkageError e) {
          why = "the Vector API did not load: " + e;
        }
      }
      AVAILABLE = ok;
      CHANNEL_BLOCK = block;
      DESCRIPTION = ok ? "direct (Vector API, " + 64 * VectorConv.lanes() + "-bit)"
          : "im2col + BLAS GEMM (" + why + ")";
      org.slf4j.LoggerFactory.getLogger(FastCnn.class).info("Convolutions in the forward pass: {}", DESCRIPTION);
    }

    private DirectKernels() {}
  }

  /**
   * The forward pass of a group of images with {@link VectorConv}'s direct convolutions, from the input to the
   * global pooling (the dense layers after it are the ops' own). Each convolution's input is a channel-last array
   * ({@code [image][y][x][c]}) with a zero border as wide as its padding, written by the op before it (its border is
   * never written, so it stays zero); a convolution followed by 2x2 max pooling writes the pooled output only. The
   * pixel offsets of a group are tables built once.
   */
  private static final class DirectPlan {
    private final List<Stage> stages;
    /** The ops after the global pooling (dense layers and the output layer). */
    private final List<Op> tail;
    private final GlobalPool global;
    private final int channels;

    /** One convolution (with its pooling) of a group of {@value FastCnn#GROUP} images. */
    private record Stage(Conv conv, boolean pool, Geometry in, Geometry out, int[] pixIn, int[] pixOut, int[] off,
        int pixels) {}

    /** A channel-last group array: {@code h x w} planes of {@code c} channels inside a zero border {@code b}. */
    private record Geometry(int h, int w, int c, int b) {
      int size() {
        return GROUP * (h + 2 * b) * (w + 2 * b) * c;
      }

      int at(int image, int y, int x) {
        return ((image * (h + 2 * b) + y + b) * (w + 2 * b) + x + b) * c;
      }
    }

    private DirectPlan(List<Stage> stages, GlobalPool global, List<Op> tail, int channels) {
      this.stages = stages;
      this.global = global;
      this.tail = tail;
      this.channels = channels;
    }

    /** The plan for {@code ops}, or empty when one of them does not run on the direct kernels. */
    static Optional<DirectPlan> of(List<Op> ops, int height, int width, int channels) {
      int i = 0;
      List<Conv> convs = new ArrayList<>();
      List<Boolean> pools = new ArrayList<>();
      for (; i < ops.size(); i++) {
        Op op = ops.get(i);
        if (op instanceof Conv c && c.direct()) {
          convs.add(c);
          pools.add(false);
        } else if (op instanceof ConvPool cp && cp.conv().direct()) {
          convs.add(cp.conv());
          pools.add(true);
        } else {
          break;
        }
      }
      if (convs.isEmpty() || i >= ops.size() || !(ops.get(i) instanceof GlobalPool global)) {
        return Optional.empty();
      }
      List<Stage> stages = new ArrayList<>();
      Geometry in = new Geometry(height, width, channels, border(convs.get(0)));
      for (int k = 0; k < convs.size(); k++) {
        Conv c = convs.get(k);
        boolean pool = pools.get(k);
        int h = pool ? c.outH / 2 : c.outH;
        int w = pool ? c.outW / 2 : c.outW;
        Geometry out = new Geometry(h, w, c.cOut, k + 1 < convs.size() ? border(convs.get(k + 1)) : 0);
        stages.add(stage(c, pool, in, out));
        in = out;
      }
      return Optional.of(new DirectPlan(List.copyOf(stages), global, List.copyOf(ops.subList(i + 1, ops.size())),
          channels));
    }

    /** The zero border a convolution's input needs: its widest padding on any side. */
    private static int border(Conv c) {
      int bottom = c.outH - 1 + c.kH - c.padTop - c.inH;
      int right = c.outW - 1 + c.kW - c.padLeft - c.inW;
      return Math.max(0, Math.max(Math.max(c.padTop, c.padLeft), Math.max(bottom, right)));
    }

    private static Stage stage(Conv c, boolean pool, Geometry in, Geometry out) {
      int pw = in.w() + 2 * in.b();
      int[] off = new int[c.kH * c.kW * c.cIn];
      for (int ky = 0; ky < c.kH; ky++) {
        for (int kx = 0; kx < c.kW; kx++) {
          for (int ci = 0; ci < c.cIn; ci++) {
            off[(ky * c.kW + kx) * c.cIn + ci] = (ky * pw + kx) * c.cIn + ci;
          }
        }
      }
      // every pixel's first tap, and where its output goes; with pooling the 4 pixels of each window in a row (a
      // window's pixels of an odd last row or column, in no window, are not computed: the pooling drops them)
      int pixels = GROUP * (pool ? 4 * out.h() * out.w() : c.outH * c.outW);
      int[] pixIn = new int[pixels];
      int[] pixOut = new int[pool ? pixels / 4 : pixels];
      int p = 0;
      for (int im = 0; im < GROUP; im++) {
        for (int y = 0; y < out.h(); y++) {
          for (int x = 0; x < out.w(); x++) {
            if (pool) {
              pixOut[p / 4] = out.at(im, y, x);
              for (int dy = 0; dy < 2; dy++) {
                for (int dx = 0; dx < 2; dx++) {
                  pixIn[p++] = in.at(im, 2 * y + dy - c.padTop, 2 * x + dx - c.padLeft);
                }
              }
            } else {
              pixOut[p] = out.at(im, y, x);
              pixIn[p++] = in.at(im, y - c.padTop, x - c.padLeft);
            }
          }
        }
      }
      return new Stage(c, pool, in, out, pixIn, pixOut, off, pixels);
    }

    /**
     * The outputs of the last op for rows {@code [from, to)} of {@code s}, zero-padded to {@value FastCnn#GROUP}
     * rows.
     */
    double[] forward(ExampleSet s, int from, int to, Workspace ws) {
      Geometry g0 = stages.get(0).in();
      double[] a = buffer(0, g0, ws);
      int hw = g0.h() * g0.w();
      float[][] f = s.features();
      for (int im = 0; im < GROUP; im++) {
        float[] row = from + im < to ? f[from + im] : null;
        for (int y = 0; y < g0.h(); y++) {
          for (int x = 0; x < g0.w(); x++) {
            int o = g0.at(im, y, x);
            for (int ch = 0; ch < channels; ch++) {
              a[o + ch] = row == null ? 0.0 : row[ch * hw + y * g0.w() + x];
            }
          }
        }
      }
      for (int k = 0; k < stages.size(); k++) {
        Stage st = stages.get(k);
        double[] next = buffer(k + 1, st.out(), ws);
        Conv c = st.conv();
        AlignedWeights.Placed w = c.direct.get();
        VectorConv.conv(a, st.pixIn(), st.pixels(), st.off(), w.array(), w.offset(), c.bias, c.cOut, c.relu,
            st.pool(), next, st.pixOut());
        a = next;
      }
      double[] pooled = globalPool(a, stages.get(stages.size() - 1).out());
      double[] out = pooled;
      for (Op op : tail) {
        out = op.forward(out, GROUP, ws, null);
      }
      return out;
    }

    /**
     * Array {@code index} of a pass (0 the input, k + 1 stage k's output) of geometry {@code g}: its own key, so a
     * stage never reads the array it writes, and its border is zero (written by no one).
     */
    private static double[] buffer(int index, Geometry g, Workspace ws) {
      return ws.buf(List.of("direct", index, g), g.size());
    }

    /**
     * Global average or max pooling of {@code a} ({@code [image][position][c]}) into {@code [image][c]}, each channel
     * taken in position order (as {@link GlobalPool} does).
     */
    private double[] globalPool(double[] a, Geometry g) {
      int positions = g.h() * g.w();
      int c = g.c();
      double[] pooled = new double[GROUP * c];
      for (int im = 0; im < GROUP; im++) {
        int o = im * c;
        int base = im * positions * c;
        if (global.max()) {
          java.util.Arrays.fill(pooled, o, o + c, Double.NEGATIVE_INFINITY);
          for (int p = 0; p < positions; p++) {
            for (int ch = 0, at = base + p * c; ch < c; ch++) {
              pooled[o + ch] = Math.max(pooled[o + ch], a[at + ch]);
            }
          }
        } else {
          for (int p = 0; p < positions; p++) {
            for (int ch = 0, at = base + p * c; ch < c; ch++) {
              pooled[o + ch] += a[at + ch];
            }
          }
          for (int ch = 0; ch < c; ch++) {
            pooled[o + ch] /= positions;
          }
        }
      }
      return pooled;
    }
  }

  private static Optional<Boolean> reluOrIdentity(IActivation a) {
    if (a instanceof ActivationIdentity) {
      return Optional.of(false);
    }
    if (a instanceof ActivationReLU r && r.equals(new ActivationReLU())) {
      return Optional.of(true);
    }
    return Optional.empty();
  }

  /** Native f-order matrices and im2col arrays reused across groups, keyed by their shape. */
  private static final class Workspace {
    /** Idle workspaces, reused by later calls (an EWC update or training takes hundreds of small steps). */
    private static final java.util.concurrent.ConcurrentLinkedDeque<Workspace> IDLE =
        new java.util.concurrent.ConcurrentLinkedDeque<>();
    /** At most this many idle workspaces are kept (about 25 MB each for the paper CNN). */
    private static final int MAX_IDLE = Runtime.getRuntime().availableProcessors() + 1;

    private final Map<List<?>, Nat> arrays = new HashMap<>();
    private final Map<List<?>, double[]> heap = new HashMap<>();
    private final Map<List<?>, float[]> floatHeap = new HashMap<>();
    private final Map<List<?>, Nat> owned = new HashMap<>();

    /** An idle workspace, or a new one. */
    static Workspace acquire() {
      Workspace w = IDLE.pollFirst();
      return w != null ? w : new Workspace();
    }

    static void release(Workspace w) {
      if (IDLE.size() < MAX_IDLE) {
        IDLE.offerFirst(w);
      }
    }

    /**
     * A reused heap array of {@code size} doubles for the user {@code key} (an op's role and position: no two
     * arrays of one group's pass share a key), holding whatever that user left in it (zeros when new). Reuse keeps
     * the large per-group arrays out of the garbage collector (most are humongous objects for G1).
     */
    double[] buf(List<Object> key, int size) {
      return heap.computeIfAbsent(java.util.List.of(key, size), k -> new double[size]);
    }

    /** As {@link #buf}, of floats. */
    float[] floats(List<Object> key, int size) {
      return floatHeap.computeIfAbsent(java.util.List.of(key, size), k -> new float[size]);
    }

    /** {@link #buf} cleared to zero. */
    double[] zeroed(List<Object> key, int size) {
      double[] b = buf(key, size);
      java.util.Arrays.fill(b, 0.0);
      return b;
    }

    /**
     * A reused native f-order matrix [rows, cols] of {@code type} and {@code slot} (the role in a convolution: 1 its
     * output or output gradient, 2 the im2col gradient, 3-5 the per-example operands), with whatever its last user
     * left in it.
     */
    Nat matrix(DataType type, int rows, int cols, int slot) {
      return arrays.computeIfAbsent(List.of(type, rows, cols, slot), k -> Nat.of(Nd4j.createUninitialized(type,
          new long[] {rows, cols}, 'f')));
    }

    /**
     * The native f-order matrix [rows, cols] of {@code type} of the user {@code key} (an op's role, position and
     * group size: no two matrices of one group's pass share a key), zero when new and otherwise as its user left it.
     */
    Nat zeroMatrix(DataType type, List<Object> key, int rows, int cols) {
      return owned.computeIfAbsent(List.of(type, key, rows, cols), k -> Nat.of(Nd4j.create(type,
          new long[] {rows, cols}, 'f')));
    }
  }

  /**
   * A native f-order matrix (a GEMM operand or result) read and written in double, stored in the GEMM's precision:
   * bulk copies for double, through a reused float array for float.
   */
  private abstract static sealed class Nat permits NatDouble, NatFloat {
    private final INDArray array;

    Nat(INDArray array) {
      this.array = array;
    }

    static Nat of(INDArray a) {
      return a.dataType() == DataType.DOUBLE ? new NatDouble(a) : new NatFloat(a);
    }

    INDArray array() {
      return array;
    }

    /** Entries {@code [at, at + len)} from {@code src[off..]}. */
    abstract void put(int at, double[] src, int off, int len);

    /** Entries {@code [at, at + len)} into {@code dst[off..]}. */
    abstract void get(int at, double[] dst, int off, int len);

    /** Entries {@code [at, at + len)} from {@code src[off..]}, an array of this matrix's precision. */
    abstract void putRaw(int at, Object src, int off, int len);

    /** Entries {@code [at, at + len)} into {@code dst[off..]}, an array of this matrix's precision. */
    abstract void getRaw(int at, Object dst, int off, int len);

    /** Entries {@code [at, at + len)} from entries {@code [from, from + len)} of {@code src} (same precision). */
    abstract void copy(int at, Nat src, int from, int len);

    /** Entry {@code at} set to zero. */
    abstract void putZero(int at);
  }

  private static final class NatDouble extends Nat {
    private final DoubleBuffer b;

    NatDouble(INDArray a) {
      super(a);
      b = a.data().asNioDouble();
    }

    @Override
    void put(int at, double[] src, int off, int len) {
      b.put(at, src, off, len);
    }

    @Override
    void get(int at, double[] dst, int off, int len) {
      b.get(at, dst, off, len);
    }

    @Override
    void copy(int at, Nat src, int from, int len) {
      b.put(at, ((NatDouble) src).b, from, len);
    }

    @Override
    void putZero(int at) {
      b.put(at, 0.0);
    }

    @Override
    void putRaw(int at, Object src, int off, int len) {
      b.put(at, (double[]) src, off, len);
    }

    @Override
    void getRaw(int at, Object dst, int off, int len) {
      b.get(at, (double[]) dst, off, len);
    }
  }

  private static final class NatFloat extends Nat {
    private final java.nio.FloatBuffer b;
    private float[] tmp = new float[0];

    NatFloat(INDArray a) {
      super(a);
      b = a.data().asNioFloat();
    }

    private float[] tmp(int len) {
      if (tmp.length < len) {
        tmp = new float[len];
      }
      return tmp;
    }

    @Override
    void put(int at, double[] src, int off, int len) {
      float[] t = tmp(len);
      for (int i = 0; i < len; i++) {
        t[i] = (float) src[off + i];
      }
      b.put(at, t, 0, len);
    }

    @Override
    void get(int at, double[] dst, int off, int len) {
      float[] t = tmp(len);
      b.get(at, t, 0, len);
      for (int i = 0; i < len; i++) {
        dst[off + i] = t[i];
      }
    }

    @Override
    void copy(int at, Nat src, int from, int len) {
      b.put(at, ((NatFloat) src).b, from, len);
    }

    @Override
    void putZero(int at) {
      b.put(at, 0f);
    }

    @Override
    void putRaw(int at, Object src, int off, int len) {
      b.put(at, (float[]) src, off, len);
    }

    @Override
    void getRaw(int at, Object dst, int off, int len) {
      b.get(at, (float[]) dst, off, len);
    }
  }

  /** What the backward pass needs from the forward pass, per op, and the parameter gradients it produces. */
  private static final class Trace {
    final boolean perExample;
    final double[][] inputs;
    final double[][] outputs;
    /** Per op: one gradient ({@code W} in DL4J's c order, then {@code b}) per image, or one for the group. */
    final double[][][] paramGrads;
    /** sum over the group's rows of -log p(y | x). */
    double loss;
    /** log p(y | x) of each of the group's rows (per-example traces only). */
    final double[] logLik;

    Trace(int n, boolean perExample, int group) {
      this.perExample = perExample;
      this.logLik = perExample ? new double[group] : null;
      inputs = new double[n][];
      outputs = new double[n][];
      paramGrads = new double[n][][];
    }

    Slot at(int i) {
      return new Slot(this, i);
    }
  }

  /** One op's entry in a {@link Trace}. */
  private record Slot(Trace trace, int index) {
    boolean perExample() {
      return trace.perExample;
    }

    void grads(double[][] g) {
      trace.paramGrads[index] = g;
    }
  }

  private interface Op {
    /** The output for a group of {@code g} images; {@code slot} is null when no backward pass follows. */
    double[] forward(double[] in, int g, Workspace ws, Slot slot);

    /**
     * The gradient with respect to this op's input, given the gradient {@code dOut} with respect to its output
     * (null when {@code needInput} is false); parameter gradients go to {@code slot}.
     */
    double[] backward(double[] dOut, int g, Workspace ws, Slot slot, double[] in, double[] out, boolean needInput);

    /** The DL4J layer index whose parameters this op holds (-1: none). */
    default int layer() {
      return -1;
    }

    /** Replaces this op's parameters with {@code wb} (as at construction: W in DL4J's c-order shape, then b). */
    default void load(double[] wb) {
      throw new IllegalStateException(getClass().getSimpleName() + " has no parameters");
    }
  }

  /** A stride-1 2D convolution as im2col and one GEMM per group of images. */
  private static final class Conv implements Op {
    final int layer;
    final int inH;
    final int inW;
    final int cIn;
    final int kH;
    final int kW;
    final int padTop;
    final int padLeft;
    final int outH;
    final int outW;
    final int cOut;
    final boolean relu;
    /** The GEMMs' precision (DOUBLE, or FLOAT for a float network's single-precision gradients). */
    final DataType type;
    final INDArray kernel;
    final double[] bias;
    /**
     * The kernel for {@link VectorConv}: per block of {@link VectorConv#channelBlock()} output channels, its taps
     * (ky, kx, c_in) by the block's channels (contiguous), starting on a vector boundary; or null when this
     * convolution does not run there (see {@link #direct}).
     */
    final AlignedWeights direct;
    /**
     * Identifies this convolution (its layer) and its im2col layout (so its zero positions) in a shared workspace.
     */
    final List<Integer> geometry;

    private Conv(int layer, int inH, int inW, int cIn, int kH, int kW, int padTop, int padLeft, int outH, int outW,
        int cOut, boolean relu, DataType type, INDArray kernel, double[] bias) {
      this.layer = layer;
      this.inH = inH;
      this.inW = inW;
      this.cIn = cIn;
      this.kH = kH;
      this.kW = kW;
      this.padTop = padTop;
      this.padLeft = padLeft;
      this.outH = outH;
      this.outW = outW;
      this.cOut = cOut;
      this.relu = relu;
      this.type = type;
      this.kernel = kernel;
      this.bias = bias;
      this.geometry = List.of(layer, inH, inW, cIn, kH, kW, padTop, padLeft, outH, outW);
      this.direct = type == DataType.DOUBLE && directKernels() && cOut % DirectKernels.CHANNEL_BLOCK == 0
          ? new AlignedWeights(kH * kW * cIn * cOut, VectorConv.lanes() * Double.BYTES) : null;
    }

    /** Whether the forward pass runs this convolution with {@link VectorConv}'s direct kernels. */
    boolean direct() {
      return direct != null;
    }

    /** {@link #direct} from {@code wb} (DL4J's [c_out, c_in, kH, kW] in c order, then b). */
    void loadDirect(double[] wb) {
      if (direct == null) {
        return;
      }
      int block = DirectKernels.CHANNEL_BLOCK;
      int taps = kH * kW * cIn;
      double[] laid = new double[direct.length()];
      for (int co = 0; co < cOut; co++) {
        for (int ci = 0; ci < cIn; ci++) {
          for (int ky = 0; ky < kH; ky++) {
            for (int kx = 0; kx < kW; kx++) {
              int tap = (ky * kW + kx) * cIn + ci;
              laid[(co / block * taps + tap) * block + co % block] = wb[((co * cIn + ci) * kH + ky) * kW + kx];
            }
          }
        }
      }
      direct.set(laid);
    }

    /** {@code wb}: the layer's W in DL4J's c-order shape, then b. */
    static Optional<Conv> of(int layer, ConvolutionLayer cl, double[] wb, int h, int w, int c, DataType type) {
      int[] k = cl.getKernelSize();
      int[] s = cl.getStride();
      int[] dil = cl.getDilation();
      int[] pad = cl.getPadding();
      Optional<Boolean> relu = reluOrIdentity(cl.getActivationFn());
      if (relu.isEmpty() || s[0] != 1 || s[1] != 1 || dil[0] != 1 || dil[1] != 1 || cl.getNIn() != c
          || !cl.hasBias() || cl.getCnn2dDataFormat() != CNN2DFormat.NCHW) {
        return Optional.empty();
      }
      ConvolutionMode mode = cl.getConvolutionMode();
      int outH;
      int outW;
      int top;
      int left;
      if (mode == ConvolutionMode.Same) {
        outH = h;
        outW = w;
        top = (k[0] - 1) / 2; // DL4J: ((out - 1) * stride + k - in) / 2 with stride 1 and out = in
        left = (k[1] - 1) / 2;
      } else if (mode == ConvolutionMode.Truncate || mode == ConvolutionMode.Strict) {
        top = pad[0];
        left = pad[1];
        outH = h + 2 * pad[0] - k[0] + 1;
        outW = w + 2 * pad[1] - k[1] + 1;
      } else {
        return Optional.empty();
      }
      if (outH < 1 || outW < 1) {
        return Optional.empty();
      }
      int cOut = (int) cl.getNOut();
      // DL4J's kernel [c_out, c_in, kH, kW] in c order is the GEMM's [(c_in, ky, kx), c_out] matrix in f order
      int kk = k[0] * k[1] * c;
      INDArray kernel = Nd4j.create(java.util.Arrays.copyOf(wb, kk * cOut), new long[] {kk, cOut}, 'f');
      if (type != DataType.DOUBLE) {
        kernel = kernel.castTo(type);
      }
      Conv conv = new Conv(layer, h, w, c, k[0], k[1], top, left, outH, outW, cOut, relu.get(), type, kernel,
          java.util.Arrays.copyOfRange(wb, kk * cOut, kk * cOut + cOut));
      conv.loadDirect(wb);
      return Optional.of(conv);
    }

    @Override
    public int layer() {
      return layer;
    }

    /** The kernel's entries in place (its buffer holds wb's first kk * c_out values in order, see of), then b. */
    @Override
    public void load(double[] wb) {
      int kk = (int) kernel.size(0) * cOut;
      if (kernel.ordering() != 'f' || kernel.elementWiseStride() != 1) {
        throw new IllegalStateException("the kernel of layer " + layer + " is not a contiguous f-order matrix");
      }
      Nat k = Nat.of(kernel);
      k.put((int) kernel.offset(), wb, 0, kk);
      System.arraycopy(wb, kk, bias, 0, cOut);
      loadDirect(wb);
    }

    @Override
    public double[] forward(double[] in, int g, Workspace ws, Slot slot) {
      int rows = g * outH * outW;
      Nat zb = multiply(in, g, ws);
      // the f-order result is channel-major: [c_out][image][y][x]; each channel is read, biased and activated while
      // it is in cache
      double[] out = ws.buf(List.of("conv-out", geometry), rows * cOut);
      for (int co = 0; co < cOut; co++) {
        activate(zb, co, rows, out, co * rows);
      }
      return out;
    }

    /** Channel {@code co} of the GEMM's result {@code zb}, biased and activated, into {@code dst[at..at+rows)}. */
    void activate(Nat zb, int co, int rows, double[] dst, int at) {
      zb.get(co * rows, dst, at, rows);
      biasActivate(co, dst, at, rows);
    }

    /** Adds channel {@code co}'s bias to {@code a[at..at+n)} and applies the activation, in place. */
    void biasActivate(int co, double[] a, int at, int n) {
      double b = bias[co];
      int end = at + n;
      if (relu) {
        for (int i = at; i < end; i++) {
          a[i] = Math.max(a[i] + b, 0.0); // branch-free: half the activations are negative
        }
      } else {
        for (int i = at; i < end; i++) {
          a[i] += b;
        }
      }
    }

    /**
     * The convolution before bias and activation: im2col of {@code in} into this convolution's native matrix and
     * one GEMM with the kernel, whose f-order [rows, c_out] result (returned) is channel-major.
     */
    Nat multiply(double[] in, int g, Workspace ws) {
      int rows = g * outH * outW;
      int kk = kH * kW * cIn;
      // im2col, straight into the native f-order matrix [rows, kk] the GEMM reads: column (c_in, ky, kx) holds, for
      // every output position (image, y, x), the input at (c_in, image, y + ky - padTop, x + kx - padLeft), zero
      // outside the image. The matrix is this convolution's own (zero when new) and stays for the backward pass;
      // the positions outside the image are never written, so they stay zero without being cleared.
      Nat col = ws.zeroMatrix(type, List.of("conv-col", geometry, g), rows, kk);
      // in the GEMM's precision: for float, the input is converted once, not each of its kk copies
      Object src0 = in;
      if (type == DataType.FLOAT) {
        float[] f = ws.floats(List.of("conv-in", geometry), in.length);
        for (int i = 0; i < f.length; i++) {
          f[i] = (float) in[i];
        }
        src0 = f;
      }
      Object src = src0;
      forEachRun(g, (colAt, inAt, n, x0, x1, len) -> {
        // one bulk copy of the run, then the few entries it took from the neighbouring rows cleared one by one
        // (cheaper than copying the run through a small array and clearing them there)
        col.putRaw(colAt + x0, src, inAt + x0, len);
        if (n > 1 && x1 - x0 < outW) {
          clearWrapped(col, colAt, n, x0, x1);
        }
      });
      Nat z = ws.matrix(type, rows, cOut, 1);
      Nd4j.gemm(col.array(), kernel, z.array(), false, false, 1.0, 0.0);
      return z;
    }

    @Override
    public double[] backward(double[] dOut, int g, Workspace ws, Slot slot, double[] in, double[] out,
        boolean needInput) {
      int rows = g * outH * outW;
      return backward((co, dz) -> {
        int off = co * rows;
        if (relu) {
          // the ReLU's outputs are +0.0 or positive (or NaN): keep dOut where the output's bits are non-zero, with
          // an integer mask instead of an unpredictable branch
          for (int j = 0; j < rows; j++) {
            long bits = Double.doubleToRawLongBits(out[off + j]);
            long mask = (bits | -bits) >> 63;
            dz[j] = Double.longBitsToDouble(Double.doubleToRawLongBits(dOut[off + j]) & mask);
          }
        } else {
          System.arraycopy(dOut, off, dz, 0, rows);
        }
      }, g, ws, slot, needInput);
    }

    /** Writes channel {@code co} of the gradient with respect to the convolution's pre-activation output. */
    interface ChannelGradient {
      void write(int co, double[] dz);
    }

    /**
     * The backward pass given the gradient {@code dz} with respect to the pre-activation output, a channel at a time
     * (after {@link #multiply} on this group: its im2col matrix is still this convolution's).
     */
    double[] backward(ChannelGradient dzOf, int g, Workspace ws, Slot slot, boolean needInput) {
      int rows = g * outH * outW;
      int kk = kH * kW * cIn;
      // dz goes to the native matrix the GEMMs read a channel at a time, through a channel-sized array that stays in
      // cache, where the bias gradient (per image or for the group) is summed
      Nat dzb = ws.matrix(type, rows, cOut, 1);
      INDArray dzm = dzb.array();
      double[] dz = ws.buf(List.of("conv-dz", geometry), rows);
      int p = outH * outW;
      double[][] dbs = new double[slot.perExample() ? g : 1][cOut];
      for (int co = 0; co < cOut; co++) {
        int off = co * rows;
        dzOf.write(co, dz);
        dzb.put(off, dz, 0, rows);
        if (slot.perExample()) {
          for (int im = 0; im < g; im++) {
            dbs[im][co] = sum(dz, im * p, im * p + p);
          }
        } else {
          dbs[0][co] = sum(dz, 0, rows);
        }
      }
      // the forward pass's im2col matrix, still this convolution's
      Nat col = ws.zeroMatrix(type, List.of("conv-col", geometry, g), rows, kk);
      INDArray colm = col.array();
      if (slot.perExample()) {
        // one [K, c_out] = col_i^T dz_i product per image, over that image's rows of col and dz
        double[][] grads = new double[g][];
        Nat cb = ws.matrix(type, p, kk, 3);
        Nat db2 = ws.matrix(type, p, cOut, 4);
        Nat dwi = ws.matrix(type, kk, cOut, 5);
        for (int im = 0; im < g; im++) {
          for (int j = 0; j < kk; j++) {
            cb.copy(j * p, col, j * rows + im * p, p);
          }
          for (int co = 0; co < cOut; co++) {
            db2.copy(co * p, dzb, co * rows + im * p, p);
          }
          double[] gi = new double[kk * cOut + cOut];
          System.arraycopy(dbs[im], 0, gi, kk * cOut, cOut);
          Nd4j.gemm(cb.array(), db2.array(), dwi.array(), true, false, 1.0, 0.0);
          // [(c_in, ky, kx), c_out] in f order is DL4J's [c_out, c_in, kH, kW] in c order
          dwi.get(0, gi, 0, kk * cOut);
          grads[im] = gi;
        }
        slot.grads(grads);
      } else {
        Nat dw = ws.matrix(type, kk, cOut, 5);
        Nd4j.gemm(colm, dzm, dw.array(), true, false, 1.0, 0.0);
        double[] gi = new double[kk * cOut + cOut];
        dw.get(0, gi, 0, kk * cOut);
        System.arraycopy(dbs[0], 0, gi, kk * cOut, cOut);
        slot.grads(new double[][] {gi});
      }
      if (!needInput) {
        return null;
      }
      Nat dcol = ws.matrix(type, rows, kk, 2);
      Nd4j.gemm(dzm, kernel, dcol.array(), false, true, 1.0, 0.0);
      // col2im, reading dcol from the native result a run at a time, in its precision, into a small array that stays
      // in cache (a multi-row run's entries outside the image cleared), and adding the run to the input gradient
      double[] din = ws.zeroed(List.of("conv-din", geometry), g * inH * inW * cIn);
      Object run = type == DataType.FLOAT ? ws.floats(List.of("conv-run", geometry), outH * outW)
          : ws.buf(List.of("conv-run", geometry), outH * outW);
      forEachRun(g, (colAt, inAt, n, x0, x1, len) -> {
        dcol.getRaw(colAt + x0, run, x0, len);
        boolean wrapped = n > 1 && x1 - x0 < outW;
        if (run instanceof float[] f) {
          if (wrapped) {
            clearWrapped(f, n, x0, x1);
          }
          addTo(din, inAt + x0, f, x0, len);
        } else {
          double[] d = (double[]) run;
          if (wrapped) {
            clearWrapped(d, n, x0, x1);
          }
          addTo(din, inAt + x0, d, x0, len);
        }
      });
      return din;
    }

    /** A run of im2col entries that are contiguous in col and in the input (see {@link #forEachRun}). */
    interface Run {
      /**
       * Entries {@code [colAt + x0, colAt + x0 + len)} of col hold the input's {@code [inAt + x0, inAt + x0 + len)}:
       * {@code n} output rows of width {@code outW} from {@code colAt}, of which only columns {@code [x0, x1)} are
       * inside the image (the others, when {@code n > 1}, are the input's neighbouring rows: to be cleared).
       */
      void at(int colAt, int inAt, int n, int x0, int x1, int len);
    }

    /**
     * The im2col layout of a group of {@code g} images, run by run: column (c_in, ky, kx) of col ([rows, kk] in f
     * order) holds, for every output position (image, y, x), the input at (c_in, image, y + ky - padTop,
     * x + kx - padLeft), zero outside the image. When the output is as wide as the input (stride 1, as with
     * {@code Same} padding) an image's valid rows are one run in both; otherwise each output row is one.
     */
    void forEachRun(int g, Run r) {
      int rows = g * outH * outW;
      for (int ci = 0; ci < cIn; ci++) {
        for (int ky = 0; ky < kH; ky++) {
          for (int kx = 0; kx < kW; kx++) {
            int column = ((ci * kH + ky) * kW + kx) * rows;
            int x0 = Math.max(0, padLeft - kx);
            int x1 = Math.min(outW, inW + padLeft - kx);
            int y0 = Math.max(0, padTop - ky);
            int y1 = Math.min(outH, inH + padTop - ky);
            if (x0 >= x1 || y0 >= y1) {
              continue;
            }
            int shift = kx - padLeft;
            for (int im = 0; im < g; im++) {
              int colAt = column + (im * outH + y0) * outW;
              int inAt = ((ci * g + im) * inH + y0 + ky - padTop) * inW + shift;
              if (outW == inW) {
                r.at(colAt, inAt, y1 - y0, x0, x1, (y1 - y0 - 1) * outW + x1 - x0);
              } else {
                for (int y = y0; y < y1; y++, colAt += outW, inAt += inW) {
                  r.at(colAt, inAt, 1, x0, x1, x1 - x0);
                }
              }
            }
          }
        }
      }
    }

    /**
     * The sum of {@code a[from..to)} in four independent partial sums (a single running sum is one long chain of
     * dependent additions).
     */
    private static double sum(double[] a, int from, int to) {
      double s0 = 0;
      double s1 = 0;
      double s2 = 0;
      double s3 = 0;
      int i = from;
      for (; i + 3 < to; i += 4) {
        s0 += a[i];
        s1 += a[i + 1];
        s2 += a[i + 2];
        s3 += a[i + 3];
      }
      for (; i < to; i++) {
        s0 += a[i];
      }
      return (s0 + s1) + (s2 + s3);
    }

    /**
     * Clears, in the {@code n} rows of width {@code outW} from index 0, the entries a run from column {@code x0} of
     * the first row to column {@code x1} of the last covers outside columns {@code [x0, x1)}: a few per row, in one
     * loop of single stores (a fill call per row cost more than the stores).
     */
    private void clearWrapped(double[] a, int n, int x0, int x1) {
      for (int r = 0; r < n - 1; r++) {
        // the entries between x1 of row r and x0 of row r + 1
        for (int i = r * outW + x1, hi = (r + 1) * outW + x0; i < hi; i++) {
          a[i] = 0.0;
        }
      }
    }

    /** {@code dst[at..at+len) += src[from..from+len)}. */
    private static void addTo(double[] dst, int at, double[] src, int from, int len) {
      for (int i = 0; i < len; i++) {
        dst[at + i] += src[from + i];
      }
    }

    /** {@code dst[at..at+len) += src[from..from+len)}, from floats. */
    private static void addTo(double[] dst, int at, float[] src, int from, int len) {
      for (int i = 0; i < len; i++) {
        dst[at + i] += src[from + i];
      }
    }

    /** As {@link #clearWrapped(double[], int, int, int)}, in a native matrix, for the rows from {@code at}. */
    private void clearWrapped(Nat a, int at, int n, int x0, int x1) {
      for (int r = 0; r < n - 1; r++) {
        for (int i = r * outW + x1, hi = (r + 1) * outW + x0; i < hi; i++) {
          a.putZero(at + i);
        }
      }
    }

    /** As {@link #clearWrapped(double[], int, int, int)}, of floats. */
    private void clearWrapped(float[] a, int n, int x0, int x1) {
      for (int r = 0; r < n - 1; r++) {
        for (int i = r * outW + x1, hi = (r + 1) * outW + x0; i < hi; i++) {
          a[i] = 0f;
        }
      }
    }
  }

  /** Max or average pooling with kernel and stride, no padding. */
  private record Pool(int index, int inH, int inW, int c, int kH, int kW, int sH, int sW, int outH, int outW,
      boolean max) implements Op {
    /** {@code index}: the op's position in the network (with the shape, its key for workspace arrays). */
    static Optional<Pool> of(int index, SubsamplingLayer sl, int h, int w, int c) {
      int[] k = sl.getKernelSize();
      int[] s = sl.getStride();
      int[] p = sl.getPadding();
      int[] dil = sl.getDilation();
      boolean max = sl.getPoolingType() == PoolingType.MAX;
      ConvolutionMode mode = sl.getConvolutionMode();
      if (!(max || sl.getPoolingType() == PoolingType.AVG) || p[0] != 0 || p[1] != 0 || dil[0] != 1 || dil[1] != 1
          || sl.getCnn2dDataFormat() != CNN2DFormat.NCHW
          || !(mode == ConvolutionMode.Truncate || mode == ConvolutionMode.Strict)) {
        return Optional.empty();
      }
      int outH = (h - k[0]) / s[0] + 1;
      int outW = (w - k[1]) / s[1] + 1;
      if (h < k[0] || w < k[1] || (mode == ConvolutionMode.Strict && ((h - k[0]) % s[0] != 0
          || (w - k[1]) % s[1] != 0))) {
        return Optional.empty();
      }
      return Optional.of(new Pool(index, h, w, c, k[0], k[1], s[0], s[1], outH, outW, max));
    }

    /** 2x2 max pooling with stride 2 (the paper CNN's), which has loops of its own. */
    boolean max2x2() {
      return max && kH == 2 && kW == 2 && sH == 2 && sW == 2;
    }

    /**
     * 2x2 max pooling of {@code planes} planes, from {@code in[inAt..]} to {@code out[outAt..]}: four loads and
     * three (intrinsic, branch-free) maxima per output.
     */
    void max2x2Forward(double[] in, int inAt, double[] out, int outAt, int planes) {
      int o = outAt;
      for (int plane = 0; plane < planes; plane++) {
        int base = inAt + plane * inH * inW;
        for (int y = 0; y < outH; y++) {
          int r0 = base + 2 * y * inW;
          int r1 = r0 + inW;
          for (int x = 0; x < outW; x++, o++) {
            int i = 2 * x;
            out[o] = Math.max(Math.max(in[r0 + i], in[r0 + i + 1]), Math.max(in[r1 + i], in[r1 + i + 1]));
          }
        }
      }
    }

    /**
     * The gradient of {@link #max2x2Forward} for {@code planes} planes into {@code din[dinAt..]}, given the
     * output gradient and the forward pass's output ({@code dOut} and {@code out} from {@code outAt}) and input
     * ({@code in} from {@code inAt}). Each window's gradient goes to its first maximum in scan order (as in the
     * general loop of {@link #backward}): every input of a window is written (dOut or 0) by masks instead of
     * branches (ReLU outputs tie at zero as often as not); only an odd plane's last row or column, in no window, is
     * cleared. With {@code reluMask} a window whose maximum is +0.0 gets no gradient: the gradient through a ReLU
     * that precedes the pooling (the window's maximum is the ReLU output the gradient goes to).
     */
    void max2x2Backward(double[] dOut, double[] out, int outAt, double[] in, int inAt, double[] din, int dinAt,
        int planes, boolean reluMask) {
      if (inH % 2 != 0 || inW % 2 != 0) {
        java.util.Arrays.fill(din, dinAt, dinAt + planes * inH * inW, 0.0);
      }
      int o = outAt;
      for (int plane = 0; plane < planes; plane++) {
        int base = plane * inH * inW;
        for (int y = 0; y < outH; y++) {
          int r0 = base + 2 * y * inW;
          int r1 = r0 + inW;
          for (int x = 0; x < outW; x++, o++) {
            int i = 2 * x;
            double m = out[o];
            long d = Double.doubleToRawLongBits(dOut[o]);
            if (reluMask) {
              long bits = Double.doubleToRawLongBits(m);
              d &= (bits | -bits) >> 63;
            }
            long ma = -(long) (in[inAt + r0 + i] == m ? 1 : 0);
            long mb = -(long) (in[inAt + r0 + i + 1] == m ? 1 : 0) & ~ma;
            long mc = -(long) (in[inAt + r1 + i] == m ? 1 : 0) & ~(ma | mb);
            long md = ~(ma | mb | mc);
            din[dinAt + r0 + i] = Double.longBitsToDouble(d & ma);
            din[dinAt + r0 + i + 1] = Double.longBitsToDouble(d & mb);
            din[dinAt + r1 + i] = Double.longBitsToDouble(d & mc);
            din[dinAt + r1 + i + 1] = Double.longBitsToDouble(d & md);
          }
        }
      }
    }

    @Override
    public double[] forward(double[] in, int g, Workspace ws, Slot slot) {
      double[] out = ws.buf(List.of("pool-out", this), g * outH * outW * c); // every entry is written below
      if (max2x2()) {
        max2x2Forward(in, 0, out, 0, c * g);
        return out;
      }
      double area = kH * kW;
      int o = 0;
      for (int plane = 0; plane < c * g; plane++) {
        int base = plane * inH * inW;
        for (int y = 0; y < outH; y++) {
          for (int x = 0; x < outW; x++, o++) {
            double acc = max ? Double.NEGATIVE_INFINITY : 0.0;
            for (int ky = 0; ky < kH; ky++) {
              int row = base + (y * sH + ky) * inW + x * sW;
              for (int kx = 0; kx < kW; kx++) {
                double v = in[row + kx];
                acc = max ? Math.max(acc, v) : acc + v;
              }
            }
            out[o] = max ? acc : acc / area;
          }
        }
      }
      return out;
    }

    @Override
    public double[] backward(double[] dOut, int g, Workspace ws, Slot slot, double[] in, double[] out,
        boolean needInput) {
      if (max2x2()) {
        double[] din = ws.buf(List.of("pool-din", this), in.length);
        max2x2Backward(dOut, out, 0, in, 0, din, 0, c * g, false);
        return din;
      }
      double[] din = ws.zeroed(List.of("pool-din", this), in.length);
      double area = kH * kW;
      int o = 0;
      for (int plane = 0; plane < c * g; plane++) {
        int base = plane * inH * inW;
        for (int y = 0; y < outH; y++) {
          for (int x = 0; x < outW; x++, o++) {
            int arg = -1;
            for (int ky = 0; ky < kH; ky++) {
              int row = base + (y * sH + ky) * inW + x * sW;
              for (int kx = 0; kx < kW; kx++) {
                if (max) {
                  if (arg < 0 || in[row + kx] > in[arg]) {
                    arg = row + kx;
                  }
                } else {
                  din[row + kx] += dOut[o] / area;
                }
              }
            }
            if (max) {
              din[arg] += dOut[o];
            }
          }
        }
      }
      return din;
    }
  }

  /**
   * A convolution followed by 2x2 max pooling with stride 2 (the paper CNN's first two blocks), fused a channel at a
   * time: each channel of the convolution's output is pooled while it is in cache, and when scoring (no backward
   * pass) the convolution's full output is never stored. The backward pass runs the pooling's gradient straight into
   * the convolution's, channel by channel; a ReLU passes a window's gradient exactly when the window's maximum is
   * positive. The results are those of the two ops run one after the other.
   */
  private record ConvPool(Conv conv, Pool pool) implements Op {
    @Override
    public int layer() {
      return conv.layer;
    }

    @Override
    public void load(double[] wb) {
      conv.load(wb);
    }

    @Override
    public double[] forward(double[] in, int g, Workspace ws, Slot slot) {
      int rows = g * conv.outH * conv.outW;
      int plane = pool.outH() * pool.outW();
      Nat zb = conv.multiply(in, g, ws);
      double[] pooled = ws.buf(List.of("pool-out", pool), g * plane * conv.cOut);
      if (slot == null) {
        // scoring: max pooling commutes with adding the bias and with the ReLU (both non-decreasing, in rounded
        // arithmetic too: a correctly rounded sum is monotone in each operand), so each channel is pooled straight
        // from the GEMM's result and only the pooled quarter is biased and activated: the same values
        double[] channel = ws.buf(List.of("conv-channel", conv.geometry), rows);
        for (int co = 0; co < conv.cOut; co++) {
          int at = co * g * plane;
          zb.get(co * rows, channel, 0, rows);
          pool.max2x2Forward(channel, 0, pooled, at, g);
          conv.biasActivate(co, pooled, at, g * plane);
        }
        return pooled;
      }
      // the backward pass needs the convolution's output
      double[] convOut = convOut(g, ws);
      for (int co = 0; co < conv.cOut; co++) {
        conv.activate(zb, co, rows, convOut, co * rows);
        pool.max2x2Forward(convOut, co * rows, pooled, co * g * plane, g);
      }
      return pooled;
    }

    private double[] convOut(int g, Workspace ws) {
      return ws.buf(List.of("conv-out", conv.geometry), g * conv.outH * conv.outW * conv.cOut);
    }

    @Override
    public double[] backward(double[] dOut, int g, Workspace ws, Slot slot, double[] in, double[] out,
        boolean needInput) {
      int rows = g * conv.outH * conv.outW;
      int plane = pool.outH() * pool.outW();
      double[] convOut = convOut(g, ws);
      return conv.backward((co, dz) -> pool.max2x2Backward(dOut, out, co * g * plane, convOut, co * rows, dz, 0, g,
          conv.relu), g, ws, slot, needInput);
    }
  }

  /** Global average or max pooling over the spatial positions; output rows are images. */
  private record GlobalPool(int positions, int c, boolean max) implements Op {
    @Override
    public double[] forward(double[] in, int g, Workspace ws, Slot slot) {
      double[] out = new double[g * c];
      for (int ch = 0; ch < c; ch++) {
        for (int im = 0; im < g; im++) {
          int base = (ch * g + im) * positions;
          double acc = max ? Double.NEGATIVE_INFINITY : 0.0;
          for (int p = 0; p < positions; p++) {
            double v = in[base + p];
            acc = max ? Math.max(acc, v) : acc + v;
          }
          out[im * c + ch] = max ? acc : acc / positions;
        }
      }
      return out;
    }

    @Override
    public double[] backward(double[] dOut, int g, Workspace ws, Slot slot, double[] in, double[] out,
        boolean needInput) {
      double[] din = new double[in.length];
      for (int ch = 0; ch < c; ch++) {
        for (int im = 0; im < g; im++) {
          int base = (ch * g + im) * positions;
          double d = dOut[im * c + ch];
          if (max) {
            int arg = base;
            for (int p = 1; p < positions; p++) {
              if (in[base + p] > in[arg]) {
                arg = base + p;
              }
            }
            din[arg] += d;
          } else {
            for (int p = 0; p < positions; p++) {
              din[base + p] = d / positions;
            }
          }
        }
      }
      return din;
    }
  }

  /** A dense (or the output) layer on image rows, [n_in, n_out] weights; the output layer yields the logits. */
  private record Dense(int layer, double[] w, double[] b, int nIn, int nOut, boolean relu) implements Op {
    /** {@code wb}: the layer's W ([n_in, n_out] in c order), then b. */
    static Dense of(int layer, double[] wb, int nIn, int nOut, boolean relu) {
      return new Dense(layer, java.util.Arrays.copyOf(wb, nIn * nOut), java.util.Arrays.copyOfRange(wb, nIn * nOut,
          nIn * nOut + nOut), nIn, nOut, relu);
    }

    @Override
    public void load(double[] wb) {
      System.arraycopy(wb, 0, w, 0, nIn * nOut);
      System.arraycopy(wb, nIn * nOut, b, 0, nOut);
    }

    @Override
    public double[] forward(double[] in, int g, Workspace ws, Slot slot) {
      double[] out = new double[g * nOut];
      for (int im = 0; im < g; im++) {
        System.arraycopy(b, 0, out, im * nOut, nOut);
        for (int k = 0; k < nIn; k++) {
          double v = in[im * nIn + k];
          for (int j = 0; j < nOut; j++) {
            out[im * nOut + j] += v * w[k * nOut + j];
          }
        }
        if (relu) {
          for (int j = 0; j < nOut; j++) {
            out[im * nOut + j] = Math.max(0.0, out[im * nOut + j]);
          }
        }
      }
      return out;
    }

    @Override
    public double[] backward(double[] dOut, int g, Workspace ws, Slot slot, double[] in, double[] out,
        boolean needInput) {
      double[] dz = dOut.clone();
      if (relu) {
        for (int i = 0; i < dz.length; i++) {
          if (out[i] <= 0) {
            dz[i] = 0;
          }
        }
      }
      double[] din = needInput ? new double[g * nIn] : null;
      int size = nIn * nOut + nOut;
      double[][] grads = slot.perExample() ? new double[g][size] : new double[1][size];
      for (int im = 0; im < g; im++) {
        double[] gi = grads[slot.perExample() ? im : 0];
        for (int j = 0; j < nOut; j++) {
          gi[nIn * nOut + j] += dz[im * nOut + j];
        }
        for (int k = 0; k < nIn; k++) {
          double v = in[im * nIn + k];
          double acc = 0;
          for (int j = 0; j < nOut; j++) {
            double d = dz[im * nOut + j];
            gi[k * nOut + j] += v * d;
            acc += d * w[k * nOut + j];
          }
          if (din != null) {
            din[im * nIn + k] = acc;
          }
        }
      }
      slot.grads(grads);
      return din;
    }
  }
}
