/**
 * The CNN fast path: the forward and backward passes of the convolutional classifiers DL4J runs slowly, without
 * DL4J's layer code. {@link dev.lethe.math.cnn.FastCnn} is the entry point (which networks it takes, logits, loss
 * gradients, per-example gradients, optimiser steps); the rest is its machinery, one job a file:
 * {@code NetworkPlan} (a network read as a list of ops, and one group's forward and backward pass),
 * {@code ConvOp}, {@code PoolOp}, {@code ConvPoolOp}, {@code GlobalPoolOp}, {@code DenseOp} (the ops),
 * {@code ParameterLayout} (where each layer's parameters sit in DL4J's flattened vector), {@code Workspace} and
 * {@code NativeMatrix} (the reused arrays and native GEMM operands of a group), {@code GradientTape} and
 * {@code OpGradients} (what the backward pass keeps from the forward pass) and {@code GroupRunner} (groups of images
 * on several threads).
 */
package dev.lethe.math.cnn;
