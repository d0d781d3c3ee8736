package dev.lethe.math;

import dev.lethe.data.ExampleSet;
import java.nio.DoubleBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.InputPreProcessor;
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
 * The logits of a double-precision convolutional classifier, computed for inference without DL4J's layer code: the
 * scoring hot path of identify (two forward passes over every training example).
 *
 * <p>DL4J 1.0.0-M2.1's built-in convolution (no oneDNN helper on the default CPU build) writes its im2col matrix
 * into a permuted view and multiplies through {@code INDArray.mmul}, which for these shapes reaches 0.5-29 GFLOP/s
 * in double where BLAS {@code gemm} into a preallocated f-order result reaches 16-67 (measured on the 2-core CI
 * machine). Here a fixed group of {@value #GROUP} images is kept channel-major ({@code [c][image][y][x]}) in a Java
 * array; each convolution builds its im2col matrix in column-major order with one {@code System.arraycopy} per
 * output row, copies it into a preallocated native matrix once, and multiplies it with the kernel by one
 * {@code Nd4j.gemm}, whose f-order result is again channel-major; bias, activation and pooling are plain loops over
 * contiguous planes. Every GEMM has the same shape whatever the number of rows scored (the last group is
 * zero-padded), so a row's logits do not depend on which other rows it was scored with. On the paper CNN this is
 * 3.5x DL4J's forward pass ({@code ScoringPrecisionBench}, 3000 rows, one run).
 *
 * <p>Supported networks (anything else makes {@link #of} return empty, and callers use DL4J's forward pass): a
 * {@link FeedForwardToCnnPreProcessor} on the first layer and no other preprocessor; 2D convolutions (NCHW, stride 1,
 * dilation 1, {@code Same} or explicit padding, bias, ReLU or identity); max or average subsampling without padding
 * in {@code Truncate} mode; global average or max pooling; dense layers with ReLU or identity; a softmax output layer.
 * The paper CNN is of this form. Results match DL4J's to rounding (tested at 1e-10).
 */
public final class ConvLogits {
  /** Images per GEMM: large enough for BLAS efficiency, small enough that the im2col matrix stays in cache. */
  static final int GROUP = 16;

  private final List<Op> ops;
  private final int height;
  private final int width;
  private final int channels;
  private final double[] outW;
  private final double[] outB;
  private final int outIn;
  private final int outOut;

  private ConvLogits(List<Op> ops, int height, int width, int channels, double[] outW, double[] outB, int outIn,
      int outOut) {
    this.ops = ops;
    this.height = height;
    this.width = width;
    this.channels = channels;
    this.outW = outW;
    this.outB = outB;
    this.outIn = outIn;
    this.outOut = outOut;
  }

  /**
   * The fast forward pass of {@code net}, or empty when its parameters are not double precision or a layer is not
   * of a supported kind (see the class comment).
   */
  public static Optional<ConvLogits> of(MultiLayerNetwork net) {
    if (net.params().dataType() != DataType.DOUBLE) {
      return Optional.empty();
    }
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
    for (int i = 0; i < n - 1; i++) {
      if (i > 0 && conf.getInputPreProcess(i) != null) {
        return Optional.empty();
      }
      Layer l = conf.getConf(i).getLayer();
      org.deeplearning4j.nn.api.Layer impl = net.getLayer(i);
      if (!flat && l instanceof ConvolutionLayer cl && cl.getClass() == ConvolutionLayer.class) {
        Optional<Conv> op = Conv.of(cl, impl, h, w, c);
        if (op.isEmpty()) {
          return Optional.empty();
        }
        ops.add(op.get());
        h = op.get().outH;
        w = op.get().outW;
        c = op.get().cOut;
      } else if (!flat && l instanceof SubsamplingLayer sl && sl.getClass() == SubsamplingLayer.class) {
        Optional<Pool> op = Pool.of(sl, h, w, c);
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
        ops.add(new Dense(doubles(impl.getParam("W")), biasOf(impl, (int) dl.getNOut()), c, (int) dl.getNOut(),
            relu.get()));
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
    org.deeplearning4j.nn.api.Layer out = net.getLayer(n - 1);
    return Optional.of(new ConvLogits(ops, height, width, channels, doubles(out.getParam("W")),
        biasOf(out, (int) ol.getNOut()), c, (int) ol.getNOut()));
  }

  /** The logits of rows {@code [from, to)} of {@code s}, one row per example. */
  public double[][] logits(ExampleSet s, int from, int to) {
    if (from < 0 || to > s.size() || from > to) {
      throw new IllegalArgumentException("rows [" + from + ", " + to + ") are outside [0, " + s.size() + ")");
    }
    int d = height * width * channels;
    if (s.numFeatures() != d) {
      throw new IllegalArgumentException("the network takes " + d + " features per row, the rows have "
          + s.numFeatures());
    }
    float[][] f = s.features();
    double[][] out = new double[to - from][];
    Workspace ws = new Workspace();
    double[] in = new double[GROUP * d];
    for (int g0 = from; g0 < to; g0 += GROUP) {
      int g1 = Math.min(to, g0 + GROUP);
      java.util.Arrays.fill(in, 0.0);
      for (int r = g0; r < g1; r++) {
        toChannelMajor(f[r], in, r - g0);
      }
      double[] a = in;
      for (Op op : ops) {
        a = op.apply(a, ws);
      }
      for (int r = g0; r < g1; r++) {
        double[] z = outB.clone();
        int base = (r - g0) * outIn;
        for (int k = 0; k < outIn; k++) {
          double v = a[base + k];
          int wr = k * outOut;
          for (int j = 0; j < outOut; j++) {
            z[j] += v * outW[wr + j];
          }
        }
        out[r - from] = z;
      }
    }
    return out;
  }

  /** One flattened NCHW row (DL4J's layout) as image {@code g} of the channel-major group array. */
  private void toChannelMajor(float[] row, double[] dst, int g) {
    int hw = height * width;
    for (int ch = 0; ch < channels; ch++) {
      int o = (ch * GROUP + g) * hw;
      for (int p = 0; p < hw; p++) {
        dst[o + p] = row[ch * hw + p];
      }
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

  private static double[] doubles(INDArray a) {
    return a.dup('c').reshape(-1).toDoubleVector();
  }

  private static double[] biasOf(org.deeplearning4j.nn.api.Layer impl, int n) {
    INDArray b = impl.getParam("b");
    return b == null ? new double[n] : doubles(b);
  }

  /** Native matrices and im2col arrays reused across groups, keyed by their shape. */
  private static final class Workspace {
    private final java.util.Map<Long, INDArray> arrays = new java.util.HashMap<>();
    private final java.util.Map<Integer, double[]> heap = new java.util.HashMap<>();

    double[] heap(int size) {
      return heap.computeIfAbsent(size, double[]::new);
    }

    /** An f-order matrix. */
    INDArray matrix(int rows, int cols, int slot) {
      long key = ((long) rows * 1_000_003L + cols) * 4 + slot;
      return arrays.computeIfAbsent(key, k -> Nd4j.createUninitialized(DataType.DOUBLE, new long[] {rows, cols},
          'f'));
    }
  }

  private sealed interface Op permits Conv, Pool, GlobalPool, Dense {
    double[] apply(double[] in, Workspace ws);
  }

  /** A stride-1 2D convolution as im2col and one GEMM per group of images. */
  private static final class Conv implements Op {
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
    final INDArray kernel;
    final double[] bias;

    private Conv(int inH, int inW, int cIn, int kH, int kW, int padTop, int padLeft, int outH, int outW, int cOut,
        boolean relu, INDArray kernel, double[] bias) {
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
      this.kernel = kernel;
      this.bias = bias;
    }

    static Optional<Conv> of(ConvolutionLayer cl, org.deeplearning4j.nn.api.Layer impl, int h, int w, int c) {
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
      INDArray kernel = Nd4j.create(doubles(impl.getParam("W")), new long[] {kk, cOut}, 'f');
      return Optional.of(new Conv(h, w, c, k[0], k[1], top, left, outH, outW, cOut, relu.get(), kernel,
          biasOf(impl, cOut)));
    }

    @Override
    public double[] apply(double[] in, Workspace ws) {
      int rows = GROUP * outH * outW;
      int kk = kH * kW * cIn;
      // im2col in column-major order: column (c_in, ky, kx) holds, for every output position (g, y, x), the input
      // at (c_in, g, y + ky - padTop, x + kx - padLeft), zero outside the image; each output row is one copy
      double[] col = ws.heap(rows * kk);
      for (int ci = 0; ci < cIn; ci++) {
        for (int ky = 0; ky < kH; ky++) {
          for (int kx = 0; kx < kW; kx++) {
            int dst = ((ci * kH + ky) * kW + kx) * rows;
            int x0 = Math.max(0, padLeft - kx);
            int x1 = Math.min(outW, inW + padLeft - kx);
            for (int g = 0; g < GROUP; g++) {
              int plane = (ci * GROUP + g) * inH;
              for (int y = 0; y < outH; y++, dst += outW) {
                int iy = y + ky - padTop;
                if (iy < 0 || iy >= inH || x0 >= x1) {
                  java.util.Arrays.fill(col, dst, dst + outW, 0.0);
                  continue;
                }
                java.util.Arrays.fill(col, dst, dst + x0, 0.0);
                System.arraycopy(in, (plane + iy) * inW + x0 + kx - padLeft, col, dst + x0, x1 - x0);
                java.util.Arrays.fill(col, dst + x1, dst + outW, 0.0);
              }
            }
          }
        }
      }
      INDArray a = ws.matrix(rows, kk, 0);
      INDArray z = ws.matrix(rows, cOut, 1);
      DoubleBuffer ab = a.data().asNioDouble();
      ab.position(0);
      ab.put(col, 0, rows * kk);
      Nd4j.gemm(a, kernel, z, false, false, 1.0, 0.0);
      // the f-order result is channel-major: [c_out][g][y][x]
      double[] out = new double[rows * cOut];
      DoubleBuffer zb = z.data().asNioDouble();
      zb.position(0);
      zb.get(out);
      for (int co = 0; co < cOut; co++) {
        double b = bias[co];
        for (int i = co * rows, end = i + rows; i < end; i++) {
          double v = out[i] + b;
          out[i] = relu && v < 0 ? 0.0 : v;
        }
      }
      return out;
    }
  }

  /** Max or average pooling with kernel and stride, no padding. */
  private record Pool(int inH, int inW, int c, int kH, int kW, int sH, int sW, int outH, int outW, boolean max)
      implements Op {
    static Optional<Pool> of(SubsamplingLayer sl, int h, int w, int c) {
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
      return Optional.of(new Pool(h, w, c, k[0], k[1], s[0], s[1], outH, outW, max));
    }

    @Override
    public double[] apply(double[] in, Workspace ws) {
      double[] out = new double[GROUP * outH * outW * c];
      double area = kH * kW;
      int o = 0;
      for (int plane = 0; plane < c * GROUP; plane++) {
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
  }

  /** Global average or max pooling over the spatial positions. */
  private record GlobalPool(int positions, int c, boolean max) implements Op {
    @Override
    public double[] apply(double[] in, Workspace ws) {
      double[] out = new double[GROUP * c];
      for (int ch = 0; ch < c; ch++) {
        for (int g = 0; g < GROUP; g++) {
          int base = (ch * GROUP + g) * positions;
          double acc = max ? Double.NEGATIVE_INFINITY : 0.0;
          for (int p = 0; p < positions; p++) {
            double v = in[base + p];
            acc = max ? Math.max(acc, v) : acc + v;
          }
          out[g * c + ch] = max ? acc : acc / positions;
        }
      }
      return out;
    }
  }

  /** A dense layer, [n_in, n_out] weights. */
  private record Dense(double[] w, double[] b, int nIn, int nOut, boolean relu) implements Op {
    @Override
    public double[] apply(double[] in, Workspace ws) {
      double[] out = new double[GROUP * nOut];
      for (int g = 0; g < GROUP; g++) {
        System.arraycopy(b, 0, out, g * nOut, nOut);
        for (int k = 0; k < nIn; k++) {
          double v = in[g * nIn + k];
          for (int j = 0; j < nOut; j++) {
            out[g * nOut + j] += v * w[k * nOut + j];
          }
        }
        if (relu) {
          for (int j = 0; j < nOut; j++) {
            out[g * nOut + j] = Math.max(0.0, out[g * nOut + j]);
          }
        }
      }
      return out;
    }
  }
}
