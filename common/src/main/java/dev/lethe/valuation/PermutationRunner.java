package dev.lethe.valuation;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Runs whole permutations of a {@link ShapleyGame}: on local threads ({@link #local}) or, in the identify stage, as
 * Spark tasks. The result is the same wherever they run: permutation t depends only on the game and t.
 */
@FunctionalInterface
public interface PermutationRunner {
  /**
   * The results of {@link ShapleyGame#permutation} for t = from .. from + count - 1, in that order.
   */
  List<double[]> run(ShapleyGame game, long from, int count);

  /** Permutations on {@code threads} local threads. */
  static PermutationRunner local(int threads) {
    return (game, from, count) -> {
      ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, Math.min(threads, count)), r -> {
        Thread t = new Thread(r, "lethe-tmc-shapley");
        t.setDaemon(true);
        return t;
      });
      try {
        List<Future<double[]>> parts = new ArrayList<>();
        for (int i = 0; i < count; i++) {
          long t = from + i;
          parts.add(pool.submit(() -> game.permutation(t)));
        }
        List<double[]> out = new ArrayList<>();
        for (Future<double[]> f : parts) {
          out.add(f.get());
        }
        return out;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      } catch (ExecutionException e) {
        throw new IllegalStateException("tmc-shapley permutation failed: " + e.getCause(), e.getCause());
      } finally {
        pool.shutdownNow();
      }
    };
  }
}
