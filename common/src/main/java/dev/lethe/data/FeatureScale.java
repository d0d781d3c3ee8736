package dev.lethe.data;

import dev.lethe.LetheInputException;

/**
 * The value range every feature must lie in ({@code data.feature-range}, default [0, 1]: the pixel scale the
 * models, the noise kinds and the FGSM step assume), and the rescaling {@code prepare} applies before it checks it
 * ({@code data.rescale}: {@code none}, or {@code from-0-255} to divide 8-bit pixel values by 255). A value outside
 * the range is bad input naming the source, the row id and the value as given: pixels 0..255 trained unnoticed
 * give a poor model, and one huge value gives an untrained one.
 */
public record FeatureScale(double min, double max, String rescale) {
  public static final String RANGE_KEY = "data.feature-range";
  public static final String RESCALE_KEY = "data.rescale";
  public static final String NONE = "none";
  public static final String FROM_0_255 = "from-0-255";

  public FeatureScale {
    if (!Double.isFinite(min) || !Double.isFinite(max) || min >= max) {
      throw new IllegalArgumentException("config key '" + RANGE_KEY + "': expected [min, max] with finite min < max,"
          + " got [" + min + ", " + max + "]");
    }
    if (!NONE.equals(rescale) && !FROM_0_255.equals(rescale)) {
      throw new IllegalArgumentException("config key '" + RESCALE_KEY + "': unknown value '" + rescale
          + "' (expected " + NONE + " or " + FROM_0_255 + ")");
    }
  }

  /** The default: features in [0, 1], no rescaling. */
  public static FeatureScale unitRange() {
    return new FeatureScale(0, 1, NONE);
  }

  /**
   * Applies the rescaling to {@code s} and checks the range; the first row (in the source's order) with a value
   * outside it stops the stage.
   *
   * @param source names the input in the error message (a config key and its path)
   */
  public ExampleSet apply(ExampleSet s, String source) {
    ExampleSet scaled = FROM_0_255.equals(rescale) ? s.scaled(1f / 255f) : s;
    for (int i = 0; i < scaled.size(); i++) {
      float[] row = scaled.features(i);
      for (int j = 0; j < row.length; j++) {
        if (row[j] < min || row[j] > max) {
          float given = s.features(i)[j];
          throw LetheInputException.of("%s: id %d has feature %s at position %d, outside %s [%s, %s]%s", source,
              s.id(i), given, j, RANGE_KEY, plain(min), plain(max), hint(given));
        }
      }
    }
    return scaled;
  }

  private String hint(float given) {
    boolean looksLike8Bit = NONE.equals(rescale) && given > max && given <= 255 && given == Math.rint(given);
    return looksLike8Bit ? " (8-bit pixels? set " + RESCALE_KEY + " = " + FROM_0_255 + ")" : "";
  }

  private static String plain(double v) {
    return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.toString(v);
  }
}
