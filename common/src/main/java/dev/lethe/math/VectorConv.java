package dev.lethe.math;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Direct convolution kernels in double precision on the JDK's incubating Vector API ({@code jdk.incubator.vector}):
 * the forward pass of {@link FastCnn} when that module is in the JVM's boot layer (see {@link FastCnn#directKernels}).
 * This is the only class that names the module's types; nothing else loads it unless the module is present.
 *
 * <p>Tensors are channel-last ({@code [image][y][x][channel]}), so the output channels of one pixel are contiguous
 * and fill whole vectors. A micro-kernel keeps 4 pixels x 4 vectors of output channels in 16 accumulators (with
 * 8 doubles a vector, 32 channels) and, for each of the kernel's {@code kH * kW * c_in} taps, broadcasts the 4 pixels'
 * inputs and loads 4 weight vectors for 16 fused multiply-adds: the register blocking of a GEMM micro-kernel, with
 * the im2col matrix read in place from the input (each pixel's tap offsets from a table) instead of written out and
 * packed. Taps are summed in table order with FMA for every pixel, so a pixel's output does not depend on which
 * other pixels share its block.
 *
 * <p>The C2 compiler (JDK 17) only keeps these vectors in registers when the micro-kernel is a method of its own,
 * its accumulators flow through a single loop (nested loops over the taps boxed them: 2 GFLOP/s instead of 36-51 on
 * a Zen 4 core) and no vector is passed to another method (an epilogue helper that C2 stopped inlining boxed its
 * arguments: 9 GFLOP/s). Hence the unrolled code, and both epilogues (plain and pooled) inline in the one
 * micro-kernel. Its code for a tap (read with hsdis on an AVX-512 Xeon): 4 weight loads, 4 broadcasts straight from
 * memory and 16 FMAs, plus a bounds check and an add per pixel, some of whose offsets live on the stack:
 * general-purpose registers run out, not vector ones.
 */
final class VectorConv {
  private static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;
  private static final int L = S.length();
  /** Output channels per micro-kernel block: 4 vectors. */
  private static final int B = 4 * L;

  private VectorConv() {}

  /** Doubles per vector on this JVM and processor. */
  static int lanes() {
    return L;
  }

  /** Output channels per micro-kernel block; a convolution runs here when its output channels are a multiple. */
  static int channelBlock() {
    return B;
  }

  /**
   * A convolution (with bias and ReLU or identity) over {@code n} output pixels: for pixel {@code p}, channels
   * {@code co < cOut}, {@code out[pixOut[p] + co] = act(bias[co] + sum_k W[k][co] * in[pixIn[p] + off[k]])}, where
   * {@code W[k][co] = w[((co / B) * taps + k) * B + co % B]} for {@code taps = off.length} and {@code B =}
   * {@link #channelBlock()}: each block of output channels has its taps' weights contiguous, read at a constant
   * stride, so C2 drops their bounds checks (it keeps one per tap and pixel for the inputs, whose offsets come from
   * the table).
   * With {@code pool} the pixels come in 2x2 windows of 4 consecutive entries of {@code pixIn}, and window {@code q}
   * writes the maximum of its 4 outputs to {@code out[pixOut[q] + co]} (max pooling after the convolution: the bias
   * and the activation are monotonic, so they apply after the maximum with the same result). {@code cOut} is a
   * multiple of {@link #channelBlock()}, {@code n} a multiple of 4 (the pixels of a group of 16 images are).
   */
  static void conv(double[] in, int[] pixIn, int n, int[] off, double[] w, double[] bias, int cOut, boolean relu,
      boolean pool, double[] out, int[] pixOut) {
    if (n % 4 != 0 || cOut % B != 0) {
      throw new IllegalArgumentException(n + " pixels, " + cOut + " channels: need multiples of 4 and " + B);
    }
    if (w.length != off.length * cOut || bias.length < cOut) {
      throw new IllegalArgumentException(w.length + " weights and " + bias.length + " biases for " + off.length
          + " taps and " + cOut + " channels");
    }
    // max(x, 0) for ReLU, max(x, -inf) = x for the identity: one epilogue without a branch
    double floor = relu ? 0.0 : Double.NEGATIVE_INFINITY;
    for (int cb = 0; cb < cOut; cb += B) {
      int from = cb * off.length;
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
}
