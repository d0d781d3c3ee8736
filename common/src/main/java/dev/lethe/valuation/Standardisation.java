package dev.lethe.valuation;

/**
 * Per-channel standardisation of embeddings, z_j = (x_j - mean_j) / sd_j, with the mean and the (population) standard
 * deviation of each channel over the training set; a constant channel is only centred (sd taken as 1). Pooled ReLU
 * channels of a penultimate layer are on unrelated scales, which makes a regularised linear head fitted on them
 * ill-conditioned; standardised, its curvature is comparable across channels. The statistics come from all of D, so
 * the transformation is the same for every subset S of a {@link ShapleyGame}.
 *
 * @param mean each channel's mean
 * @param sd each channel's standard deviation (1 for a constant channel)
 */
record Standardisation(double[] mean, double[] sd) {
  /** The statistics of the rows {@code x} (at least one). */
  static Standardisation of(double[][] x) {
    int d = x[0].length;
    double[] mean = new double[d];
    double[] sd = new double[d];
    for (double[] row : x) {
      for (int j = 0; j < d; j++) {
        mean[j] += row[j];
      }
    }
    for (int j = 0; j < d; j++) {
      mean[j] /= x.length;
    }
    for (double[] row : x) {
      for (int j = 0; j < d; j++) {
        double c = row[j] - mean[j];
        sd[j] += c * c;
      }
    }
    for (int j = 0; j < d; j++) {
      double s = Math.sqrt(sd[j] / x.length);
      sd[j] = s > 0 ? s : 1;
    }
    return new Standardisation(mean, sd);
  }

  /** The standardised copies of {@code rows}. */
  double[][] apply(double[][] rows) {
    double[][] out = new double[rows.length][];
    for (int i = 0; i < rows.length; i++) {
      double[] z = new double[mean.length];
      for (int j = 0; j < z.length; j++) {
        z[j] = (rows[i][j] - mean[j]) / sd[j];
      }
      out[i] = z;
    }
    return out;
  }
}
