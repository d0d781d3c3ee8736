package dev.lethe.influence;

/** A cause-identification method (see the package description). */
public interface InfluenceMethod {
  /** The name used in configuration ({@code lethe.identify.method}) and output tables. */
  String name();

  /** Does the method's one-off work (an EWC update, an inverse-curvature solve) and returns the scorer. */
  PreparedInfluence prepare(InfluenceInputs in);

  /** Whether {@link #prepare} reads the benchmark cases B ({@link InfluenceInputs#benchmark}). */
  default boolean needsBenchmark() {
    return false;
  }

  /** Whether {@link #prepare} reads the whole training set D ({@link InfluenceInputs#train}). */
  default boolean needsTrainingSet() {
    return false;
  }
}
