package dev.lethe.math.cnn;

/** Global average or max pooling over the spatial positions; output rows are images. */
record GlobalPoolOp(int positions, int c, boolean max) implements LayerOp {
  @Override
  public double[] forward(double[] in, int g, Workspace ws, OpGradients tape) {
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
  public double[] backward(double[] dOut, int g, Workspace ws, OpGradients tape, double[] in, double[] out,
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
