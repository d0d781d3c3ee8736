package dev.lethe.influence;

import java.util.Locale;

/**
 * Options of the influence methods (keys under {@code lethe.identify} in conf/reference.conf).
 *
 * @param ewc the EWC update of {@link EwcInfluence}
 * @param linearGamma gamma of the linear influence r(z) = -gamma s . grad log p(z) (Eq. 9; > 0)
 * @param curvature "full" (empirical Fisher over the curvature sample, matrix-free) or "diagonal" (the Fisher
 *     diagonal)
 * @param damping added to the curvature, (F + damping I) (>= 0; > 0 needed for "full" unless the sample spans
 *     parameter space)
 * @param cgMaxIterations conjugate-gradient iteration cap (>= 1)
 * @param cgTolerance conjugate-gradient relative residual target (> 0)
 * @param lissaScale LiSSA scale, at least the largest eigenvalue of every damped minibatch curvature; 0 = automatic
 *     ({@link dev.lethe.math.Lissa#automaticScale}: the largest squared per-example gradient norm plus damping)
 * @param lissaDepth LiSSA recursion depth (>= 1)
 * @param lissaRepeats independent LiSSA recursions averaged (>= 1)
 * @param lissaBatchSize curvature-sample rows per LiSSA step (>= 1)
 * @param scoreBatchSize rows per forward pass when scoring (>= 1)
 */
public record InfluenceOptions(EwcOptions ewc, double linearGamma, String curvature, double damping,
    int cgMaxIterations, double cgTolerance, double lissaScale, int lissaDepth, int lissaRepeats,
    int lissaBatchSize, int scoreBatchSize) {

  public static final String FULL = "full";
  public static final String DIAGONAL = "diagonal";

  public InfluenceOptions {
    if (ewc == null) {
      throw new IllegalArgumentException("ewc options must be given");
    }
    if (!(linearGamma > 0) || Double.isInfinite(linearGamma)) {
      throw new IllegalArgumentException("linearGamma must be finite and > 0, got " + linearGamma);
    }
    curvature = curvature == null ? null : curvature.toLowerCase(Locale.ROOT);
    if (!FULL.equals(curvature) && !DIAGONAL.equals(curvature)) {
      throw new IllegalArgumentException("curvature must be 'full' or 'diagonal', got '" + curvature + "'");
    }
    if (!(damping >= 0) || Double.isInfinite(damping)) {
      throw new IllegalArgumentException("damping must be finite and >= 0, got " + damping);
    }
    if (cgMaxIterations < 1) {
      throw new IllegalArgumentException("cgMaxIterations must be >= 1, got " + cgMaxIterations);
    }
    if (!(cgTolerance > 0) || Double.isInfinite(cgTolerance)) {
      throw new IllegalArgumentException("cgTolerance must be finite and > 0, got " + cgTolerance);
    }
    if (!(lissaScale >= 0) || Double.isInfinite(lissaScale)) {
      throw new IllegalArgumentException("lissaScale must be finite and >= 0 (0 = automatic), got " + lissaScale);
    }
    if (lissaDepth < 1) {
      throw new IllegalArgumentException("lissaDepth must be >= 1, got " + lissaDepth);
    }
    if (lissaRepeats < 1) {
      throw new IllegalArgumentException("lissaRepeats must be >= 1, got " + lissaRepeats);
    }
    if (lissaBatchSize < 1) {
      throw new IllegalArgumentException("lissaBatchSize must be >= 1, got " + lissaBatchSize);
    }
    if (scoreBatchSize < 1) {
      throw new IllegalArgumentException("scoreBatchSize must be >= 1, got " + scoreBatchSize);
    }
  }

  /** The defaults of conf/reference.conf. */
  public static InfluenceOptions defaults() {
    return dev.lethe.config.Options.influence(dev.lethe.config.LetheConfig.defaults());
  }

  public InfluenceOptions withEwc(EwcOptions e) {
    return new InfluenceOptions(e, linearGamma, curvature, damping, cgMaxIterations, cgTolerance, lissaScale,
        lissaDepth, lissaRepeats, lissaBatchSize, scoreBatchSize);
  }

  public InfluenceOptions withCurvature(String c, double d) {
    return new InfluenceOptions(ewc, linearGamma, c, d, cgMaxIterations, cgTolerance, lissaScale, lissaDepth,
        lissaRepeats, lissaBatchSize, scoreBatchSize);
  }

  public InfluenceOptions withLissa(double scale, int depth, int repeats, int batchSize) {
    return new InfluenceOptions(ewc, linearGamma, curvature, damping, cgMaxIterations, cgTolerance, scale, depth,
        repeats, batchSize, scoreBatchSize);
  }
}
