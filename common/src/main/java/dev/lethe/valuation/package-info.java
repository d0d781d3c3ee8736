/**
 * Data valuation: the value of each training example to the model's performance on the failures Fq, and the
 * identify methods built on it. Values are computed once on the driver from penultimate-layer embeddings
 * ({@link dev.lethe.valuation.PenultimateFeatures}) and shipped as a table by id
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
