package dev.lethe.math.backend;

/**
 * What a computation is for, which decides the precision a backend may use (DL4J computes in the network's own type
 * whatever the purpose).
 */
public enum Purpose {
  /**
   * Values as the network's own arithmetic gives them: the fast path only for double-precision networks (a float
   * network's scores stay DL4J's float forward pass). For scores that are compared with other scoring passes.
   */
  SCORES,
  /**
   * Values in double precision from the network's parameters where the backend can (the fast path takes float
   * parameters exactly): for gradients, curvature, the criteria of early stopping, and the penultimate-layer
   * embeddings the data-valuation methods compute distances and retrain a layer on.
   */
  DOUBLE,
  /**
   * The minibatch loss gradients of an optimiser's steps: for a float network the fast path's single-precision
   * GEMMs (as DL4J's own float arithmetic), else double.
   */
  OPTIMISER,
  /**
   * Training steps that must reproduce {@code net.fit}: as {@link #OPTIMISER}, and the fast path only for networks
   * without dropout, weight noise, regularisation, gradient normalisation or constraints.
   */
  TRAINING
}
