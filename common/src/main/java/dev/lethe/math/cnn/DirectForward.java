package dev.lethe.math.cnn;

import dev.lethe.data.ExampleSet;
import dev.lethe.math.cnn.vector.AlignedWeights;
import dev.lethe.math.cnn.vector.VectorConv;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The forward pass of a group of images with {@link VectorConv}'s direct convolutions, from the input to the
 * global pooling (the dense layers after it are the ops' own). Each convolution's input is a channel-last array
 * ({@code [image][y][x][c]}) with a zero border as wide as its padding, written by the op before it (its border is
 * never written, so it stays zero); a convolution followed by 2x2 max pooling writes the pooled output only. The
 * pixel offsets of a group are tables built once.
 */
final class DirectForward {
  private final List<Stage> stages;
  /** The ops after the global pooling (dense layers and the output layer). */
  private final List<LayerOp> tail;
  private final GlobalPoolOp global;
  private final int channels;

  /** One convolution (with its pooling) of a group of {@value FastCnn#GROUP} images. */
  private record Stage(ConvOp conv, boolean pool, Geometry in, Geometry out, int[] pixIn, int[] pixOut, int[] off,
      int pixels) {}

  /** A channel-last group array: {@code h x w} planes of {@code c} channels inside a zero border {@code b}. */
  private record Geometry(int h, int w, int c, int b) {
    int size() {
      return FastCnn.GROUP * (h + 2 * b) * (w + 2 * b) * c;
    }

    int at(int image, int y, int x) {
      return ((image * (h + 2 * b) + y + b) * (w + 2 * b) + x + b) * c;
    }
  }

  private DirectForward(List<Stage> stages, GlobalPoolOp global, List<LayerOp> tail, int channels) {
    this.stages = stages;
    this.global = global;
    this.tail = tail;
    this.channels = channels;
  }

  /** The plan for {@code ops}, or empty when one of them does not run on the direct kernels. */
  static Optional<DirectForward> of(List<LayerOp> ops, int height, int width, int channels) {
    int i = 0;
    List<ConvOp> convs = new ArrayList<>();
    List<Boolean> pools = new ArrayList<>();
    for (; i < ops.size(); i++) {
      LayerOp op = ops.get(i);
      if (op instanceof ConvOp c && c.direct()) {
        convs.add(c);
        pools.add(false);
      } else if (op instanceof ConvPoolOp cp && cp.conv().direct()) {
        convs.add(cp.conv());
        pools.add(true);
      } else {
        break;
      }
    }
    if (convs.isEmpty() || i >= ops.size() || !(ops.get(i) instanceof GlobalPoolOp global)) {
      return Optional.empty();
    }
    List<Stage> stages = new ArrayList<>();
    Geometry in = new Geometry(height, width, channels, border(convs.get(0)));
    for (int k = 0; k < convs.size(); k++) {
      ConvOp c = convs.get(k);
      boolean pool = pools.get(k);
      int h = pool ? c.outH / 2 : c.outH;
      int w = pool ? c.outW / 2 : c.outW;
      Geometry out = new Geometry(h, w, c.cOut, k + 1 < convs.size() ? border(convs.get(k + 1)) : 0);
      stages.add(stage(c, pool, in, out));
      in = out;
    }
    return Optional.of(new DirectForward(List.copyOf(stages), global, List.copyOf(ops.subList(i + 1, ops.size())),
        channels));
  }

  /** The zero border a convolution's input needs: its widest padding on any side. */
  private static int border(ConvOp c) {
    int bottom = c.outH - 1 + c.kH - c.padTop - c.inH;
    int right = c.outW - 1 + c.kW - c.padLeft - c.inW;
    return Math.max(0, Math.max(Math.max(c.padTop, c.padLeft), Math.max(bottom, right)));
  }

  private static Stage stage(ConvOp c, boolean pool, Geometry in, Geometry out) {
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
    int pixels = FastCnn.GROUP * (pool ? 4 * out.h() * out.w() : c.outH * c.outW);
    int[] pixIn = new int[pixels];
    int[] pixOut = new int[pool ? pixels / 4 : pixels];
    int p = 0;
    for (int im = 0; im < FastCnn.GROUP; im++) {
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
    for (int im = 0; im < FastCnn.GROUP; im++) {
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
      ConvOp c = st.conv();
      AlignedWeights.Placed w = c.direct.get();
      VectorConv.conv(a, st.pixIn(), st.pixels(), st.off(), w.array(), w.offset(), c.bias, c.cOut, c.relu,
          st.pool(), next, st.pixOut());
      a = next;
    }
    double[] pooled = globalPool(a, stages.get(stages.size() - 1).out());
    double[] out = pooled;
    for (LayerOp op : tail) {
      out = op.forward(out, FastCnn.GROUP, ws, null);
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
   * taken in position order (as {@link GlobalPoolOp} does).
   */
  private double[] globalPool(double[] a, Geometry g) {
    int positions = g.h() * g.w();
    int c = g.c();
    double[] pooled = new double[FastCnn.GROUP * c];
    for (int im = 0; im < FastCnn.GROUP; im++) {
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
