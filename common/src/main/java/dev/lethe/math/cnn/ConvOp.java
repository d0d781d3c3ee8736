package dev.lethe.math.cnn;

import java.util.List;
import java.util.Optional;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** A stride-1 2D convolution as im2col and one GEMM per group of images. */
final class ConvOp implements LayerOp {
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
   * Identifies this convolution (its layer) and its im2col layout (so its zero positions) in a shared workspace.
   */
  final List<Integer> geometry;

  private ConvOp(int layer, int inH, int inW, int cIn, int kH, int kW, int padTop, int padLeft, int outH, int outW,
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
  }

  /** {@code wb}: the layer's W in DL4J's c-order shape, then b. */
  static Optional<ConvOp> of(int layer, ConvolutionLayer cl, double[] wb, int h, int w, int c, DataType type) {
    int[] k = cl.getKernelSize();
    int[] s = cl.getStride();
    int[] dil = cl.getDilation();
    int[] pad = cl.getPadding();
    Optional<Boolean> relu = NetworkPlan.reluOrIdentity(cl.getActivationFn());
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
    INDArray kernel = kernel(wb, kk, cOut, type);
    ConvOp conv = new ConvOp(layer, h, w, c, k[0], k[1], top, left, outH, outW, cOut, relu.get(), type, kernel,
        java.util.Arrays.copyOfRange(wb, kk * cOut, kk * cOut + cOut));
    return Optional.of(conv);
  }

  /** DL4J's kernel [c_out, c_in, kH, kW] in c order (wb's first kk * c_out values) as the GEMM's f-order [kk, c_out]. */
  private static INDArray kernel(double[] wb, int kk, int cOut, DataType type) {
    INDArray kernel = Nd4j.create(java.util.Arrays.copyOf(wb, kk * cOut), new long[] {kk, cOut}, 'f');
    return type == DataType.DOUBLE ? kernel : kernel.castTo(type);
  }

  /** {@code wb} (W in DL4J's c-order shape, then b: this layer's parameters or a direction in their space) as a kernel. */
  INDArray kernelOf(double[] wb) {
    return kernel(wb, kH * kW * cIn, cOut, type);
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
    NativeMatrix k = NativeMatrix.of(kernel);
    k.put((int) kernel.offset(), wb, 0, kk);
    System.arraycopy(wb, kk, bias, 0, cOut);
  }

  @Override
  public double[] forward(double[] in, int g, Workspace ws, OpGradients tape) {
    int rows = g * outH * outW;
    NativeMatrix zb = multiply(in, g, ws);
    // the f-order result is channel-major: [c_out][image][y][x]; each channel is read, biased and activated while
    // it is in cache
    double[] out = ws.buf(List.of("conv-out", geometry), rows * cOut);
    for (int co = 0; co < cOut; co++) {
      activate(zb, co, rows, out, co * rows);
    }
    return out;
  }

  /** Channel {@code co} of the GEMM's result {@code zb}, biased and activated, into {@code dst[at..at+rows)}. */
  void activate(NativeMatrix zb, int co, int rows, double[] dst, int at) {
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
  NativeMatrix multiply(double[] in, int g, Workspace ws) {
    int rows = g * outH * outW;
    int kk = kH * kW * cIn;
    // im2col, straight into the native f-order matrix [rows, kk] the GEMM reads: column (c_in, ky, kx) holds, for
    // every output position (image, y, x), the input at (c_in, image, y + ky - padTop, x + kx - padLeft), zero
    // outside the image. The matrix is this convolution's own (zero when new) and stays for the backward pass;
    // the positions outside the image are never written, so they stay zero without being cleared.
    NativeMatrix col = ws.zeroMatrix(type, List.of("conv-col", geometry, g), rows, kk);
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
    NativeMatrix z = ws.matrix(type, rows, cOut, 1);
    Nd4j.gemm(col.array(), kernel, z.array(), false, false, 1.0, 0.0);
    return z;
  }

  @Override
  public double[] backward(double[] dOut, int g, Workspace ws, OpGradients tape, double[] in, double[] out,
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
    }, g, ws, tape, needInput);
  }

  /** Writes channel {@code co} of the gradient with respect to the convolution's pre-activation output. */
  interface ChannelGradient {
    void write(int co, double[] dz);
  }

  /**
   * The backward pass given the gradient {@code dz} with respect to the pre-activation output, a channel at a time
   * (after {@link #multiply} on this group: its im2col matrix is still this convolution's).
   */
  double[] backward(ChannelGradient dzOf, int g, Workspace ws, OpGradients tape, boolean needInput) {
    int rows = g * outH * outW;
    int kk = kH * kW * cIn;
    // dz goes to the native matrix the GEMMs read a channel at a time, through a channel-sized array that stays in
    // cache, where the bias gradient (per image or for the group) is summed
    NativeMatrix dzb = ws.matrix(type, rows, cOut, 1);
    INDArray dzm = dzb.array();
    double[] dz = ws.buf(List.of("conv-dz", geometry), rows);
    int p = outH * outW;
    boolean perImage = tape.perExample() || tape.projects();
    double[][] dbs = new double[perImage ? g : 1][cOut];
    // the forward pass's im2col matrix, still this convolution's
    NativeMatrix col = ws.zeroMatrix(type, List.of("conv-col", geometry, g), rows, kk);
    INDArray colm = col.array();
    // projecting: col q_W, whose channels are dotted with dz's, image by image, as dz is written
    NativeMatrix colq = null;
    double[] colqChannel = null;
    double[] qb = null;
    if (tape.projects()) {
      colq = ws.matrix(type, rows, cOut, 6);
      Nd4j.gemm(colm, tape.directionKernel(), colq.array(), false, false, 1.0, 0.0);
      colqChannel = ws.buf(List.of("conv-colq", geometry), rows);
      qb = tape.direction();
    }
    for (int co = 0; co < cOut; co++) {
      int off = co * rows;
      dzOf.write(co, dz);
      dzb.put(off, dz, 0, rows);
      if (colq != null) {
        colq.get(off, colqChannel, 0, rows);
        for (int im = 0; im < g; im++) {
          tape.addDot(im, dot(dz, colqChannel, im * p, im * p + p));
        }
      }
      if (perImage) {
        for (int im = 0; im < g; im++) {
          dbs[im][co] = sum(dz, im * p, im * p + p);
        }
      } else {
        dbs[0][co] = sum(dz, 0, rows);
      }
    }
    if (qb != null) {
      int w = kk * cOut;
      for (int im = 0; im < g; im++) {
        double s = 0;
        for (int co = 0; co < cOut; co++) {
          s += qb[w + co] * dbs[im][co];
        }
        tape.addDot(im, s);
      }
    } else if (tape.perExample()) {
      // one [K, c_out] = col_i^T dz_i product per image, over that image's rows of col and dz
      double[][] grads = new double[g][];
      NativeMatrix cb = ws.matrix(type, p, kk, 3);
      NativeMatrix db2 = ws.matrix(type, p, cOut, 4);
      NativeMatrix dwi = ws.matrix(type, kk, cOut, 5);
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
      tape.grads(grads);
    } else {
      NativeMatrix dw = ws.matrix(type, kk, cOut, 5);
      Nd4j.gemm(colm, dzm, dw.array(), true, false, 1.0, 0.0);
      double[] gi = new double[kk * cOut + cOut];
      dw.get(0, gi, 0, kk * cOut);
      System.arraycopy(dbs[0], 0, gi, kk * cOut, cOut);
      tape.grads(new double[][] {gi});
    }
    if (!needInput) {
      return null;
    }
    NativeMatrix dcol = ws.matrix(type, rows, kk, 2);
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

  /** {@code a[from..to) . b[from..to)} in four independent partial sums, as {@link #sum}. */
  private static double dot(double[] a, double[] b, int from, int to) {
    double s0 = 0;
    double s1 = 0;
    double s2 = 0;
    double s3 = 0;
    int i = from;
    for (; i + 3 < to; i += 4) {
      s0 += a[i] * b[i];
      s1 += a[i + 1] * b[i + 1];
      s2 += a[i + 2] * b[i + 2];
      s3 += a[i + 3] * b[i + 3];
    }
    for (; i < to; i++) {
      s0 += a[i] * b[i];
    }
    return (s0 + s1) + (s2 + s3);
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
  private void clearWrapped(NativeMatrix a, int at, int n, int x0, int x1) {
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
