package dev.lethe.math.cnn.vector;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Direct convolution kernels in double precision on the JDK's incubating Vector API ({@code jdk.incubator.vector}):
 * the forward pass of {@link dev.lethe.math.cnn.FastCnn} when that module is in the JVM's boot layer (see
 * {@link DirectKernels}).
 * This is the only class that names the module's types; nothing else loads it unless the module is present.
 *
 * <p>Tensors are channel-last ({@code [image][y][x][channel]}), so the output channels of one pixel are contiguous
 * and fill whole vectors. A micro-kernel keeps 4 pixels x 4 vectors of output channels in 16 accumulators (with
 * 8 doubles a vector, 32 channels) and, for each of the kernel's {@code kH * kW * c_in} taps, broadcasts the 4 pixels'
 * inputs and loads 4 weight vectors for 16 fused multiply-adds: the register blocking of a GEMM micro-kernel. Where
 * the input channels are many (a kernel row's taps are contiguous runs of at least {@value #PACK_RUN} on average),
 * each 4 pixels' taps are first copied into 4 small arrays, as a GEMM packs its operands (an im2col of 4 rows,
 * never the whole matrix), and the micro-kernel reads them at the tap's index; otherwise it reads them in place from
 * the input through a table of tap offsets. Taps are summed in table order with FMA for every pixel on both paths,
 * so a pixel's output does not depend on the path or on which other pixels share its block.
 *
 * <p>The C2 compiler (JDK 17) only keeps these vectors in registers when the micro-kernel is a method of its own,
 * its accumulators flow through a single loop (nested loops over the taps box them) and no vector is passed to another
 * method (an epilogue helper that C2 does not inline boxes its arguments). Hence the unrolled code, and both epilogues
 * (plain and pooled) inline in each micro-kernel. Their code for a tap is 4 weight loads, 4 broadcasts straight from
 * memory and 16 FMAs; reading in place adds a bounds check and an add per pixel, while the packed kernel's loop has
 * only its counter and the weights' index left. The packed kernel is fastest with its weights starting on a vector
 * boundary ({@link AlignedWeights}: a misaligned vector load spans two cache lines).
 */
public final class VectorConv {
  private static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;
  private static final int L = S.length();
  /** Output channels per micro-kernel block: 4 vectors. */
  private static final int B = 4 * L;
  /** The mean run of consecutive tap offsets from which {@link #conv} packs the taps. */
  static final int PACK_RUN = 8;

  private VectorConv() {}

  /** Doubles per vector on this JVM and processor. */
  public static int lanes() {
    return L;
  }

  /** Output channels per micro-kernel block; a convolution runs here when its output channels are a multiple. */
  public static int channelBlock() {
    return B;
  }

  /**
   * A convolution (with bias and ReLU or identity) over {@code n} output pixels: for pixel {@code p}, channels
   * {@code co < cOut}, {@code out[pixOut[p] + co] = act(bias[co] + sum_k W[k][co] * in[pixIn[p] + off[k]])}, where
   * {@code W[k][co] = w[w0 + ((co / B) * taps + k) * B + co % B]} for {@code taps = off.length} and {@code B =}
   * {@link #channelBlock()}: each block of output channels has its taps' weights contiguous, read at a constant
   * stride, so C2 drops their bounds checks; {@code w0} lets the caller start them on a vector boundary
   * ({@link AlignedWeights}).
   * With {@code pool} the pixels come in 2x2 windows of 4 consecutive entries of {@code pixIn}, and window {@code q}
   * writes the maximum of its 4 outputs to {@code out[pixOut[q] + co]} (max pooling after the convolution: the bias
   * and the activation are monotonic, so they apply after the maximum with the same result). {@code cOut} is a
   * multiple of {@link #channelBlock()}, {@code n} a multiple of 4 (the pixels of a group of 16 images are).
   *
   * <p>When the taps come in runs of at least {@value #PACK_RUN} consecutive offsets on average (a kernel row's input
   * channels, channel-last), each 4 pixels' taps are first copied into 4 arrays, one run at a time, and the
   * micro-kernel reads them in order ({@link #packed4}): no offset table, no per-pixel index arithmetic or bounds
   * checks in its loop. Otherwise ({@code c_in = 1}: runs of 3) it reads them in place ({@link #block4}). Both sum
   * the same products in the same order: the outputs do not depend on the path.
   */
  public static void conv(double[] in, int[] pixIn, int n, int[] off, double[] w, int w0, double[] bias, int cOut,
      boolean relu, boolean pool, double[] out, int[] pixOut) {
    int taps = off.length;
    if (n % 4 != 0 || cOut % B != 0) {
      throw new IllegalArgumentException(n + " pixels, " + cOut + " channels: need multiples of 4 and " + B);
    }
    if (w0 < 0 || w.length - w0 < (long) taps * cOut || bias.length < cOut) {
      throw new IllegalArgumentException(w.length + " weights from " + w0 + " and " + bias.length + " biases for "
          + taps + " taps and " + cOut + " channels");
    }
    // max(x, 0) for ReLU, max(x, -inf) = x for the identity: one epilogue without a branch
    double floor = relu ? 0.0 : Double.NEGATIVE_INFINITY;
    int[] runs = runs(off);
    if (taps >= PACK_RUN * (runs.length / 2)) {
      double[][] x = new double[4][taps];
      for (int p = 0; p < n; p += 4) {
        for (int q = 0; q < 4; q++) {
          double[] xq = x[q];
          int base = pixIn[p + q];
          for (int r = 0; r < runs.length; r += 2) {
            int k = runs[r];
            System.arraycopy(in, base + off[k], xq, k, runs[r + 1]);
          }
        }
        for (int cb = 0; cb < cOut; cb += B) {
          int from = w0 + cb * taps;
          if (pool) {
            packed4(x[0], x[1], x[2], x[3], taps, w, from, cb, bias, floor, true, out, pixOut[p / 4] + cb, 0, 0, 0);
          } else {
            packed4(x[0], x[1], x[2], x[3], taps, w, from, cb, bias, floor, false, out, pixOut[p] + cb,
                pixOut[p + 1] + cb, pixOut[p + 2] + cb, pixOut[p + 3] + cb);
          }
        }
      }
      return;
    }
    for (int cb = 0; cb < cOut; cb += B) {
      int from = w0 + cb * taps;
      for (int p = 0; p < n; p += 4) {
        if (pool) {
          block4(in, pixIn[p], pixIn[p + 1], pixIn[p + 2], pixIn[p + 3], off, w, from, cb, bias, floor, true, out,
              pixOut[p / 4] + cb, 0, 0, 0);
        } else {
          block4(in, pixIn[p], pixIn[p + 1], pixIn[p + 2], pixIn[p + 3], off, w, from, cb, bias, floor, false, out,
              pixOut[p] + cb, pixOut[p + 1] + cb, pixOut[p + 2] + cb, pixOut[p + 3] + cb);
        }
      }
    }
  }

  /** The runs of consecutive offsets in {@code off}: pairs (first tap, length). */
  static int[] runs(int[] off) {
    int[] r = new int[2 * off.length];
    int m = 0;
    for (int k = 0; k < off.length; ) {
      int e = k + 1;
      while (e < off.length && off[e] == off[e - 1] + 1) {
        e++;
      }
      r[m++] = k;
      r[m++] = e - k;
      k = e;
    }
    return java.util.Arrays.copyOf(r, m);
  }

  /**
   * Four pixels (inputs from {@code i0..i3}) x 4 vectors of channels from {@code cb} (their weights from
   * {@code w[from]} on), stored at {@code o0..o3}; with {@code pool} the 4 pixels are a 2x2 pooling window, whose
   * maximum is stored at {@code o0} ({@code o1..o3} unused).
   */
  private static void block4(double[] in, int i0, int i1, int i2, int i3, int[] off, double[] w, int from, int cb,
      double[] bias, double floor, boolean pool, double[] out, int o0, int o1, int o2, int o3) {
    DoubleVector a00 = DoubleVector.zero(S);
    DoubleVector a01 = a00;
    DoubleVector a02 = a00;
    DoubleVector a03 = a00;
    DoubleVector a10 = a00;
    DoubleVector a11 = a00;
    DoubleVector a12 = a00;
    DoubleVector a13 = a00;
    DoubleVector a20 = a00;
    DoubleVector a21 = a00;
    DoubleVector a22 = a00;
    DoubleVector a23 = a00;
    DoubleVector a30 = a00;
    DoubleVector a31 = a00;
    DoubleVector a32 = a00;
    DoubleVector a33 = a00;
    for (int k = 0; k < off.length; k++) {
      int t = off[k];
      int wb = from + k * B;
      DoubleVector w0 = DoubleVector.fromArray(S, w, wb);
      DoubleVector w1 = DoubleVector.fromArray(S, w, wb + L);
      DoubleVector w2 = DoubleVector.fromArray(S, w, wb + 2 * L);
      DoubleVector w3 = DoubleVector.fromArray(S, w, wb + 3 * L);
      DoubleVector x = DoubleVector.broadcast(S, in[i0 + t]);
      a00 = w0.fma(x, a00);
      a01 = w1.fma(x, a01);
      a02 = w2.fma(x, a02);
      a03 = w3.fma(x, a03);
      x = DoubleVector.broadcast(S, in[i1 + t]);
      a10 = w0.fma(x, a10);
      a11 = w1.fma(x, a11);
      a12 = w2.fma(x, a12);
      a13 = w3.fma(x, a13);
      x = DoubleVector.broadcast(S, in[i2 + t]);
      a20 = w0.fma(x, a20);
      a21 = w1.fma(x, a21);
      a22 = w2.fma(x, a22);
      a23 = w3.fma(x, a23);
      x = DoubleVector.broadcast(S, in[i3 + t]);
      a30 = w0.fma(x, a30);
      a31 = w1.fma(x, a31);
      a32 = w2.fma(x, a32);
      a33 = w3.fma(x, a33);
    }
    DoubleVector b0 = DoubleVector.fromArray(S, bias, cb);
    DoubleVector b1 = DoubleVector.fromArray(S, bias, cb + L);
    DoubleVector b2 = DoubleVector.fromArray(S, bias, cb + 2 * L);
    DoubleVector b3 = DoubleVector.fromArray(S, bias, cb + 3 * L);
    DoubleVector lo = DoubleVector.broadcast(S, floor);
    if (pool) {
      a00.max(a10).max(a20.max(a30)).add(b0).max(lo).intoArray(out, o0);
      a01.max(a11).max(a21.max(a31)).add(b1).max(lo).intoArray(out, o0 + L);
      a02.max(a12).max(a22.max(a32)).add(b2).max(lo).intoArray(out, o0 + 2 * L);
      a03.max(a13).max(a23.max(a33)).add(b3).max(lo).intoArray(out, o0 + 3 * L);
      return;
    }
    a00.add(b0).max(lo).intoArray(out, o0);
    a01.add(b1).max(lo).intoArray(out, o0 + L);
    a02.add(b2).max(lo).intoArray(out, o0 + 2 * L);
    a03.add(b3).max(lo).intoArray(out, o0 + 3 * L);
    a10.add(b0).max(lo).intoArray(out, o1);
    a11.add(b1).max(lo).intoArray(out, o1 + L);
    a12.add(b2).max(lo).intoArray(out, o1 + 2 * L);
    a13.add(b3).max(lo).intoArray(out, o1 + 3 * L);
    a20.add(b0).max(lo).intoArray(out, o2);
    a21.add(b1).max(lo).intoArray(out, o2 + L);
    a22.add(b2).max(lo).intoArray(out, o2 + 2 * L);
    a23.add(b3).max(lo).intoArray(out, o2 + 3 * L);
    a30.add(b0).max(lo).intoArray(out, o3);
    a31.add(b1).max(lo).intoArray(out, o3 + L);
    a32.add(b2).max(lo).intoArray(out, o3 + 2 * L);
    a33.add(b3).max(lo).intoArray(out, o3 + 3 * L);
  }

  /**
   * As {@link #block4} with the 4 pixels' taps packed in {@code x0..x3} (tap {@code k} of pixel 0 at
   * {@code x0[k]}): the inputs are read at one index.
   */
  private static void packed4(double[] x0, double[] x1, double[] x2, double[] x3, int taps, double[] w, int from,
      int cb, double[] bias, double floor, boolean pool, double[] out, int o0, int o1, int o2, int o3) {
    DoubleVector a00 = DoubleVector.zero(S);
    DoubleVector a01 = a00;
    DoubleVector a02 = a00;
    DoubleVector a03 = a00;
    DoubleVector a10 = a00;
    DoubleVector a11 = a00;
    DoubleVector a12 = a00;
    DoubleVector a13 = a00;
    DoubleVector a20 = a00;
    DoubleVector a21 = a00;
    DoubleVector a22 = a00;
    DoubleVector a23 = a00;
    DoubleVector a30 = a00;
    DoubleVector a31 = a00;
    DoubleVector a32 = a00;
    DoubleVector a33 = a00;
    for (int k = 0; k < taps; k++) {
      int wb = from + k * B;
      DoubleVector w0 = DoubleVector.fromArray(S, w, wb);
      DoubleVector w1 = DoubleVector.fromArray(S, w, wb + L);
      DoubleVector w2 = DoubleVector.fromArray(S, w, wb + 2 * L);
      DoubleVector w3 = DoubleVector.fromArray(S, w, wb + 3 * L);
      DoubleVector x = DoubleVector.broadcast(S, x0[k]);
      a00 = w0.fma(x, a00);
      a01 = w1.fma(x, a01);
      a02 = w2.fma(x, a02);
      a03 = w3.fma(x, a03);
      x = DoubleVector.broadcast(S, x1[k]);
      a10 = w0.fma(x, a10);
      a11 = w1.fma(x, a11);
      a12 = w2.fma(x, a12);
      a13 = w3.fma(x, a13);
      x = DoubleVector.broadcast(S, x2[k]);
      a20 = w0.fma(x, a20);
      a21 = w1.fma(x, a21);
      a22 = w2.fma(x, a22);
      a23 = w3.fma(x, a23);
      x = DoubleVector.broadcast(S, x3[k]);
      a30 = w0.fma(x, a30);
      a31 = w1.fma(x, a31);
      a32 = w2.fma(x, a32);
      a33 = w3.fma(x, a33);
    }
    DoubleVector b0 = DoubleVector.fromArray(S, bias, cb);
    DoubleVector b1 = DoubleVector.fromArray(S, bias, cb + L);
    DoubleVector b2 = DoubleVector.fromArray(S, bias, cb + 2 * L);
    DoubleVector b3 = DoubleVector.fromArray(S, bias, cb + 3 * L);
    DoubleVector lo = DoubleVector.broadcast(S, floor);
    if (pool) {
      a00.max(a10).max(a20.max(a30)).add(b0).max(lo).intoArray(out, o0);
      a01.max(a11).max(a21.max(a31)).add(b1).max(lo).intoArray(out, o0 + L);
      a02.max(a12).max(a22.max(a32)).add(b2).max(lo).intoArray(out, o0 + 2 * L);
      a03.max(a13).max(a23.max(a33)).add(b3).max(lo).intoArray(out, o0 + 3 * L);
      return;
    }
    a00.add(b0).max(lo).intoArray(out, o0);
    a01.add(b1).max(lo).intoArray(out, o0 + L);
    a02.add(b2).max(lo).intoArray(out, o0 + 2 * L);
    a03.add(b3).max(lo).intoArray(out, o0 + 3 * L);
    a10.add(b0).max(lo).intoArray(out, o1);
    a11.add(b1).max(lo).intoArray(out, o1 + L);
    a12.add(b2).max(lo).intoArray(out, o1 + 2 * L);
    a13.add(b3).max(lo).intoArray(out, o1 + 3 * L);
    a20.add(b0).max(lo).intoArray(out, o2);
    a21.add(b1).max(lo).intoArray(out, o2 + L);
    a22.add(b2).max(lo).intoArray(out, o2 + 2 * L);
    a23.add(b3).max(lo).intoArray(out, o2 + 3 * L);
    a30.add(b0).max(lo).intoArray(out, o3);
    a31.add(b1).max(lo).intoArray(out, o3 + L);
    a32.add(b2).max(lo).intoArray(out, o3 + 2 * L);
    a33.add(b3).max(lo).intoArray(out, o3 + 3 * L);
  }
}
