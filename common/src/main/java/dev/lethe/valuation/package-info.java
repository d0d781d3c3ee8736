/**
 * Data valuation: the value of each training example to the model's performance on the failures Fq, and the
 * identify methods built on it. The penultimate-layer embeddings ({@link dev.lethe.valuation.PenultimateFeatures},
 * through the backend seam) of the training set are computed by an {@link dev.lethe.valuation.EmbeddingPass} (in the
 * identify stage: in Spark partitions) and collected by id; the values are computed once on the driver from them and
 * shipped as a table by id
 * ({@link dev.lethe.valuation.ValueScores}), so every partition scores its rows by lookup; a culprit has a negative
 * value, and the ranking table's score is minus the value (larger = more harmful, as for every method).
 *
 * <ul>
 *   <li>{@link dev.lethe.valuation.KnnShapley} ("knn-shapley"): the exact Shapley value of a K-nearest-neighbour
 *       classifier's accuracy on Fq (Jia et al. 2019, Theorem 1).
 *   <li>{@link dev.lethe.valuation.TmcShapley} ("tmc-shapley"): truncated Monte Carlo Data Shapley (Ghorbani and
 *       Zou 2019, Algorithm 1) with the final layer retrained on frozen penultimate features as the learner.
 * </ul>
 */
package dev.lethe.valuation;
