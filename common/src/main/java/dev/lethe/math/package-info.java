/**
 * Numerical building blocks for cause identification (Tanno et al. 2022, Sections 3-4): per-example gradients of
 * log p(y|x, theta) ({@link dev.lethe.math.PerExampleGradients}), exact per-example log-likelihoods
 * ({@link dev.lethe.math.LogLikelihood}), the diagonal empirical Fisher used by the EWC penalty of Eq. 10
 * ({@link dev.lethe.math.EmpiricalFisher}, {@link dev.lethe.math.DiagonalFisher}), and the inverse-curvature
 * vector products of the linear influence of Eq. 9 ({@link dev.lethe.math.ConjugateGradient},
 * {@link dev.lethe.math.Lissa} over a {@link dev.lethe.math.LinearOperator}), and a limited-memory BFGS minimiser
 * ({@link dev.lethe.math.Lbfgs}) for the small convex fits of data valuation.
 *
 * <p>Everything that crosses a process boundary (Spark executors) is a {@code byte[]} or a primitive array,
 * never an {@code INDArray} ({@link dev.lethe.math.NetworkBytes}). Sums that must not depend on partitioning use
 * compensated summation and are rounded before they are published.
 */
package dev.lethe.math;
