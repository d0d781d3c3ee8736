package dev.lethe.influence;

import dev.lethe.data.ExampleSet;

/**
 * Scores blocks of training examples. A row's result depends only on the row (not on the block it came in), so
 * scores are the same for every partitioning. Not thread-safe: one scorer per thread.
 */
public interface Scorer extends AutoCloseable {
  /** One score per row of {@code block}, in row order (higher = more responsible for the failures). */
  ScoredBlock score(ExampleSet block);

  @Override
  default void close() {}
}
