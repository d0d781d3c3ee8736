/**
 * The backend seam: what the methods need from a model ({@link dev.lethe.math.backend.ModelBackend}: logits and
 * per-example log-likelihoods, per-example gradients, the minibatch loss gradient of an optimiser step), its two
 * implementations ({@code Dl4jBackend}, DL4J's own forward and backward passes for any network; {@code FastCnnBackend},
 * the CNN fast path of {@code dev.lethe.math.cnn}) and the one place that chooses between them
 * ({@link dev.lethe.math.backend.BackendSelector}, configured by {@code compute.backend}).
 */
package dev.lethe.math.backend;
