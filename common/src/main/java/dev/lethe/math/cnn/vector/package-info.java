/**
 * The optional direct convolution kernels of the CNN fast path, on the JDK's incubating Vector API: {@link
 * dev.lethe.math.cnn.vector.VectorConv} (the kernels), {@link dev.lethe.math.cnn.vector.DirectKernels} (whether they
 * run in this JVM), {@link dev.lethe.math.cnn.vector.AlignedWeights} and {@code ArrayAlignment} (weights kept on a
 * vector boundary, with the array's address read through {@code sun.misc.Unsafe}). Without the module, or with
 * {@code -Dlethe.vector-kernels=false}, the fast path runs im2col and BLAS GEMMs instead and needs nothing here.
 */
package dev.lethe.math.cnn.vector;
