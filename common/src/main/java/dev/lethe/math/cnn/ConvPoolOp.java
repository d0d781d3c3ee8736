package dev.lethe.math.cnn;

import java.util.List;

/**
 * A convolution followed by 2x2 max pooling with stride 2 (the paper CNN's first two blocks), fused a channel at a
 * time: each channel of the convolution's output is pooled while it is in cache, and when scoring (no backward
 * pass) the convolution's full output is never stored. The backward pass runs the pooling's gradient straight into
 * the convolution's, channel by channel; a ReLU passes a window's gradient exactly when the window's maximum is
 * positive. The results are those of the two ops run one after the other.
 */
record ConvPoolOp(ConvOp conv, PoolOp pool) implements LayerOp {
  @Override
  public int layer() {
    return conv.layer;
  }

  @Override
  public void load(double[] wb) {
    conv.load(wb);
  }

  @Override
  public double[] forward(double[] in, int g, Workspace ws, OpGradients tape) {
    int rows = g * conv.outH * conv.outW;
    int plane = pool.outH() * pool.outW();
    NativeMatrix zb = conv.multiply(in, g, ws);
    double[] pooled = ws.buf(List.of("pool-out", pool), g * plane * conv.cOut);
    if (tape == null) {
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
  public double[] backward(double[] dOut, int g, Workspace ws, OpGradients tape, double[] in, double[] out,
      boolean needInput) {
    int rows = g * conv.outH * conv.outW;
    int plane = pool.outH() * pool.outW();
    double[] convOut = convOut(g, ws);
    return conv.backward((co, dz) -> pool.max2x2Backward(dOut, out, co * g * plane, convOut, co * rows, dz, 0, g,
        conv.relu), g, ws, tape, needInput);
  }
}
