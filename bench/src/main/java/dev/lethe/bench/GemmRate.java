package dev.lethe.bench;

import java.util.concurrent.Phaser;
import java.util.concurrent.atomic.AtomicReference;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The matrix-multiply rate ND4J reaches on this machine: the ceiling the benchmarks' roofline compares the scoring
 * throughput with. {@link #flopsPerSecond} uses the calling thread's ND4J/BLAS thread setting, so callers set the
 * thread count first; {@link #concurrentFlopsPerSecond} runs one single-threaded product per thread of its own.
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
    check(size, minSeconds, 1);
    Product p = new Product(type, size);
    double best = Double.POSITIVE_INFINITY;
    long start = System.nanoTime();
    int runs = 0;
    do {
      long t0 = System.nanoTime();
      p.run();
      best = Math.min(best, (System.nanoTime() - t0) / 1e9);
      runs++;
    } while (runs < 3 || (System.nanoTime() - start) / 1e9 < minSeconds);
    return Product.flops(size) / Math.max(best, 1e-9);
  }

  /**
   * The best aggregate rate, in FLOP/s, of {@code threads} threads each multiplying its own square
   * {@code size x size} matrices of {@code type} on one BLAS thread, all at once: the way {@code threads}
   * single-threaded Spark tasks score. Products run in rounds that start together and end when the slowest one is
   * done; the rate is threads x 2 size^3 over the shortest round, over rounds (after a warm-up) for at least
   * {@code minSeconds}.
   *
   * <p>It complements {@link #flopsPerSecond}, one product on the BLAS threads in force: on the 2-core CI machine
   * OpenBLAS's two-thread product ran at 105-107 GFLOP/s in some processes and 122-123 in others, while two
   * concurrent single-threaded products reached 123-124 every time (one-thread rate 61.5-62.2). The caller's BLAS
   * thread setting is restored afterwards.
   */
  public static double concurrentFlopsPerSecond(DataType type, int size, double minSeconds, int threads) {
    check(size, minSeconds, threads);
    int saved = Nd4j.factory().blas().getMaxThreads();
    Rounds rounds = new Rounds(threads, minSeconds);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread[] workers = new Thread[threads];
    for (int i = 0; i < threads; i++) {
      workers[i] = new Thread(() -> {
        try {
          Nd4j.factory().blas().setMaxThreads(1);
          Product p = new Product(type, size);
          do {
            rounds.arriveAndAwaitAdvance();
            p.run();
            rounds.arriveAndAwaitAdvance();
          } while (!rounds.stop);
        } catch (Throwable t) {
          failure.compareAndSet(null, t);
          rounds.stop = true;
        } finally {
          rounds.arriveAndDeregister(); // a failed worker no longer holds the others' rounds back
        }
      }, "lethe-gemm-rate-" + i);
      workers[i].setDaemon(true);
      workers[i].start();
    }
    try {
      for (Thread w : workers) {
        w.join();
      }
    } catch (InterruptedException e) {
      rounds.stop = true;
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while measuring the concurrent GEMM rate", e);
    } finally {
      Nd4j.factory().blas().setMaxThreads(saved);
    }
    if (failure.get() != null) {
      throw new IllegalStateException("a concurrent GEMM failed: " + failure.get(), failure.get());
    }
    return threads * Product.flops(size) / Math.max(rounds.best, 1e-9);
  }

  /**
   * The workers' rounds: an even phase's advance starts a round, the odd one after it ends it (so rounds done =
   * (phase + 1) / 2). The advance runs in the last thread to arrive, before any is released, so the round's time is
   * from the last start to the last product done.
   */
  private static final class Rounds extends Phaser {
    private final double minSeconds;
    private final long start = System.nanoTime();
    private long roundStart;
    double best = Double.POSITIVE_INFINITY;
    volatile boolean stop;

    Rounds(int parties, double minSeconds) {
      super(parties);
      this.minSeconds = minSeconds;
    }

    @Override
    protected boolean onAdvance(int phase, int registeredParties) {
      long now = System.nanoTime();
      if (phase % 2 == 0) {
        roundStart = now;
      } else {
        best = Math.min(best, (now - roundStart) / 1e9);
        if ((phase + 1) / 2 >= 3 && (now - start) / 1e9 >= minSeconds) {
          stop = true;
        }
      }
      return registeredParties == 0;
    }
  }

  private static void check(int size, double minSeconds, int threads) {
    if (size < 1 || !(minSeconds >= 0) || threads < 1) {
      throw new IllegalArgumentException("size and threads must be >= 1 and minSeconds >= 0, got " + size + ", "
          + threads + ", " + minSeconds);
    }
  }

  /** C = A B for one thread's deterministic, non-trivial square operands (the values do not matter), warmed up. */
  private static final class Product {
    private final INDArray a;
    private final INDArray b;
    private final INDArray c;

    Product(DataType type, int size) {
      a = Nd4j.linspace(1, (double) size * size, (long) size * size, type).reshape('c', size, size)
          .divi((double) size * size);
      b = a.transpose().dup('c');
      c = Nd4j.create(type, size, size);
      for (int i = 0; i < WARM_UP; i++) {
        Nd4j.gemm(a, b, c, false, false, 1.0, 0.0);
      }
    }

    /** FLOPs of one product of {@code size x size} matrices. */
    static double flops(int size) {
      return 2.0 * size * size * size;
    }

    void run() {
      Nd4j.gemm(a, b, c, false, false, 1.0, 0.0);
      c.getDouble(0); // the product is complete before the clock stops
    }
  }
}
