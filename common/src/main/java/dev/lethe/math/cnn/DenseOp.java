package dev.lethe.math.cnn;

/** A dense (or the output) layer on image rows, [n_in, n_out] weights; the output layer yields the logits. */
record DenseOp(int layer, double[] w, double[] b, int nIn, int nOut, boolean relu) implements LayerOp {
  /** {@code wb}: the layer's W ([n_in, n_out] in c order), then b. */
  static DenseOp of(int layer, double[] wb, int nIn, int nOut, boolean relu) {
    return new DenseOp(layer, java.util.Arrays.copyOf(wb, nIn * nOut), java.util.Arrays.copyOfRange(wb, nIn * nOut,
        nIn * nOut + nOut), nIn, nOut, relu);
  }

  @Override
  public void load(double[] wb) {
    System.arraycopy(wb, 0, w, 0, nIn * nOut);
    System.arraycopy(wb, nIn * nOut, b, 0, nOut);
  }

  @Override
  public double[] forward(double[] in, int g, Workspace ws, OpGradients tape) {
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
  public double[] backward(double[] dOut, int g, Workspace ws, OpGradients tape, double[] in, double[] out,
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
    if (tape.projects()) {
      project(dz, g, tape, in, din);
      return din;
    }
    int size = nIn * nOut + nOut;
    double[][] grads = tape.perExample() ? new double[g][size] : new double[1][size];
    for (int im = 0; im < g; im++) {
      double[] gi = grads[tape.perExample() ? im : 0];
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
    tape.grads(grads);
    return din;
  }

  /**
   * The backward pass of a projection: per image, {@code dz . q_b + sum_k a_k (dz . q_W[k])} goes to the tape
   * instead of the gradient, and the input gradient (when {@code din} is not null) into {@code din}.
   */
  private void project(double[] dz, int g, OpGradients tape, double[] in, double[] din) {
    double[] q = tape.direction();
    int wSize = nIn * nOut;
    for (int im = 0; im < g; im++) {
      double s = 0;
      for (int j = 0; j < nOut; j++) {
        s += dz[im * nOut + j] * q[wSize + j];
      }
      for (int k = 0; k < nIn; k++) {
        double v = in[im * nIn + k];
        double acc = 0;
        double qd = 0;
        for (int j = 0; j < nOut; j++) {
          double d = dz[im * nOut + j];
          qd += d * q[k * nOut + j];
          acc += d * w[k * nOut + j];
        }
        s += v * qd;
        if (din != null) {
          din[im * nIn + k] = acc;
        }
      }
      tape.addDot(im, s);
    }
  }
}
