package dev.lethe.math;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The matrix-multiply rate ND4J reaches on this machine: the ceiling the benchmarks' roofline compares the scoring
 * throughput with. It uses the calling thread's ND4J/BLAS thread setting, so callers set the thread count first.
 */
public final class GemmRate {
  private static final int WARM_UP = 3;

  private GemmRate() {}

  /**
   * How OpenBLAS (ND4J's CPU BLAS) chose its kernels in this process, for benchmark records and provenance:
   * {@code OPENBLAS_CORETYPE=<value>} when that environment variable is set (OpenBLAS reads it when it is loaded;
   * some machines pin it, because older OpenBLAS builds, such as the 0.3.19 ND4J 1.0.0-M2.1 bundles, compute wrong
   * results or crash with the kernels they detect on some newer processors), else {@code "auto"}: the library's own
   * CPU detection. GEMM rates, and so the roofline, depend on it.
   */
  public static String openBlasKernels() {
    return openBlasKernels(System.getenv("OPENBLAS_CORETYPE"));
  }

  static String openBlasKernels(String coreType) {
    return coreType == null || coreType.isBlank() ? "auto" : "OPENBLAS_CORETYPE=" + coreType.trim();
  }

  /**
   * The best rate, in FLOP/s (2 size^3 per product), of C = A B for square {@code size x size} matrices of
   * {@code type}, over repeated products (after a warm-up) for at least {@code minSeconds}.
   */
  public static double flopsPerSecond(DataType type, int size, double minSeconds) {
    if (size < 1 || !(minSeconds >= 0)) {
      throw new IllegalArgumentException("size must be >= 1 and minSeconds >= 0, got " + size + ", " + minSeconds);
    }
    // deterministic, non-trivial operands (the values do not matter for the timing)
    INDArray a = Nd4j.linspace(1, (double) size * size, (long) size * size, type).reshape('c', size, size)
        .divi((double) size * size);
    INDArray b = a.transpose().dup('c');
    INDArray c = Nd4j.create(type, size, size);
    for (int i = 0; i < WARM_UP; i++) {
      Nd4j.gemm(a, b, c, false, false, 1.0, 0.0);
    }
    double flops = 2.0 * size * size * size;
    double best = Double.POSITIVE_INFINITY;
    long start = System.nanoTime();
    int runs = 0;
    do {
      long t0 = System.nanoTime();
      Nd4j.gemm(a, b, c, false, false, 1.0, 0.0);
      c.getDouble(0); // the product is complete before the clock stops
      best = Math.min(best, (System.nanoTime() - t0) / 1e9);
      runs++;
    } while (runs < 3 || (System.nanoTime() - start) / 1e9 < minSeconds);
    return flops / Math.max(best, 1e-9);
  }
}
