package dev.lethe.influence;

import java.io.Serializable;

/**
 * A scorer in shippable form. Implementations hold only byte[], primitive arrays, primitives and Strings (it is
 * serialised to Spark executors; never an INDArray, which Spark would close as an AutoCloseable broadcast value).
 */
public interface ScorerSpec extends Serializable {
  /** Builds the scorer (rebuilding networks from bytes); call once per partition and close it afterwards. */
  Scorer open();
}
