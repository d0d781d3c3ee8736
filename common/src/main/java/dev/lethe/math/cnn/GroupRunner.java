package dev.lethe.math.cnn;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Runs the groups of images of one pass on several threads: the calling thread and a shared daemon pool, in waves,
 * each group with a workspace of its own, and the results passed on in group order; BLAS single-threaded meanwhile.
 * Groups are fixed and combined in order, so results do not depend on the thread count.
 */
final class GroupRunner {
  private GroupRunner() {}

  /** One group's work, given a workspace no other thread uses meanwhile. */
  interface GroupJob<T> {
    T run(int group, Workspace ws);
  }

  /** Takes one group's result on the calling thread, in group order. */
  interface GroupSink<T> {
    void accept(int group, T result);
  }

  /**
   * Runs {@code job} for groups {@code 0..n-1} in waves of {@code threads} groups (the calling thread takes the
   * first of each wave, pool threads the rest) and passes each result to {@code sink} in group order on the calling
   * thread, so at most one wave's results are held. BLAS runs every GEMM on the calling thread alone (its threaded
   * kernels round the weight gradient's long sums differently), so results do not depend on the thread count.
   */
  static <T> void inWaves(int threads, int n, GroupJob<T> job, GroupSink<T> sink) {
    int t = Math.max(1, Math.min(threads, n));
    Workspace[] ws = new Workspace[t];
    for (int k = 0; k < t; k++) {
      ws[k] = Workspace.acquire();
    }
    Parallel.enter();
    try {
      if (t == 1) {
        for (int i = 0; i < n; i++) {
          sink.accept(i, job.run(i, ws[0]));
        }
        return;
      }
      List<Future<T>> pending = new ArrayList<>(t - 1);
      for (int w0 = 0; w0 < n; w0 += t) {
        int w1 = Math.min(n, w0 + t);
        pending.clear();
        for (int i = w0 + 1; i < w1; i++) {
          int group = i;
          Workspace w = ws[i - w0];
          pending.add(Parallel.POOL.submit(() -> job.run(group, w)));
        }
        try {
          sink.accept(w0, job.run(w0, ws[0]));
          for (int i = w0 + 1; i < w1; i++) {
            sink.accept(i, Parallel.join(pending.get(i - w0 - 1)));
          }
        } catch (RuntimeException | Error e) {
          // no pool thread may still be using a workspace when it goes back to the pool
          Parallel.awaitQuietly(pending);
          throw e;
        }
      }
    } finally {
      Parallel.exit();
      for (Workspace w : ws) {
        Workspace.release(w);
      }
    }
  }

  /** The shared daemon pool, and BLAS single-threaded while any FastCnn section runs (its setting is global). */
  private static final class Parallel {
    private static final AtomicInteger NEXT = new AtomicInteger();
    static final ExecutorService POOL = Executors.newCachedThreadPool(r -> {
      Thread th = new Thread(r, "lethe-fastcnn-" + NEXT.incrementAndGet());
      th.setDaemon(true);
      return th;
    });
    private static int sections;
    private static int savedBlasThreads;

    static synchronized void enter() {
      if (sections++ == 0) {
        savedBlasThreads = Nd4j.factory().blas().getMaxThreads();
        Nd4j.factory().blas().setMaxThreads(1);
      }
    }

    static synchronized void exit() {
      if (--sections == 0) {
        Nd4j.factory().blas().setMaxThreads(savedBlasThreads);
      }
    }

    /** Waits for every task in {@code fs} to end, ignoring their results and failures. */
    static void awaitQuietly(List<? extends Future<?>> fs) {
      fs.forEach(dev.lethe.Futures::awaitQuietly);
    }

    static <T> T join(Future<T> f) {
      return dev.lethe.Futures.join(f, "a group of images");
    }
  }
}
