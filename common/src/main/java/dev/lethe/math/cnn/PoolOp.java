package dev.lethe.math.cnn;

import java.util.List;
import java.util.Optional;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;

/** Max or average pooling with kernel and stride, no padding. */
record PoolOp(int index, int inH, int inW, int c, int kH, int kW, int sH, int sW, int outH, int outW,
    boolean max) implements LayerOp {
  /** {@code index}: the op's position in the network (with the shape, its key for workspace arrays). */
  static Optional<PoolOp> of(int index, SubsamplingLayer sl, int h, int w, int c) {
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
    return Optional.of(new PoolOp(index, h, w, c, k[0], k[1], s[0], s[1], outH, outW, max));
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
  public double[] forward(double[] in, int g, Workspace ws, OpGradients tape) {
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
  public double[] backward(double[] dOut, int g, Workspace ws, OpGradients tape, double[] in, double[] out,
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
