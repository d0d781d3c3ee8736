/**
 * Cause identification: which training examples are responsible for a set of failures Fq (Tanno et al. 2022,
 * "Repairing Neural Networks by Leaving the Right Past Behind", Section 4). Engine-free and pluggable: an
 * {@link dev.lethe.influence.InfluenceMethod} prepares a serialisable {@link dev.lethe.influence.ScorerSpec}
 * once (on the driver), and the spec is shipped to wherever the training set lives (Spark executors) and opened
 * there to score blocks of examples. A higher score means "more responsible for the failures".
 *
 * <ul>
 *   <li>{@link dev.lethe.influence.EwcInfluence} ("ewc-influence", Eq. 10): learn Fq under an EWC penalty
 *       ({@link dev.lethe.influence.EwcUpdate}) and score r(z) = log p(z | theta_hat) - log p(z | theta*).
 *   <li>{@link dev.lethe.influence.LinearInfluence} ("linear-cg", "linear-lissa", Eq. 9): the first-order
 *       approximation r(z) = -gamma grad log p(z)^T (F + damping I)^-1 grad log p(Fq).
 *   <li>{@link dev.lethe.influence.TracInInfluence} ("tracin", "self-influence"): TracIn-CP over the training
 *       checkpoints ({@link dev.lethe.model.TrainingCheckpoints}), towards Fq or of each example on itself.
 *   <li>{@link dev.lethe.influence.LossInfluence} ("loss"): r(z) = -log p(z | theta_hat).
 *   <li>{@link dev.lethe.influence.ConfidentLearning} ("confident-learning"): label issues from out-of-fold
 *       probabilities ({@link dev.lethe.influence.OutOfFoldTraining}, {@link dev.lethe.influence.LabelQuality}).
 *   <li>{@link dev.lethe.influence.PumaInfluence} ("puma"): PUMA's data value psi(z) = grad C^T (F + damping I)^-1
 *       grad L(z) for a chosen performance metric C ({@link dev.lethe.influence.PumaMetric}).
 *   <li>The data-valuation methods "knn-shapley" and "tmc-shapley" live in {@link dev.lethe.valuation}.
 *   <li>{@link dev.lethe.influence.RandomInfluence} ("random") and {@link dev.lethe.influence.OracleInfluence}
 *       ("oracle", evaluation only): baselines.
 * </ul>
 *
 * <p>loss, self-influence and confident-learning are failure-agnostic: they rank examples that look wrong (hard to
 * fit, mislabelled) whatever the failures, and ignore Fq.
 */
package dev.lethe.influence;
