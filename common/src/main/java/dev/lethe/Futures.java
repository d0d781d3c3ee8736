package dev.lethe;

import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/** Waiting for work handed to another thread, with its failure rethrown as the work threw it. */
public final class Futures {
  private Futures() {}

  /**
   * The result of {@code f}; its RuntimeException or Error rethrown unwrapped (a checked exception wrapped in an
   * IllegalStateException). Interrupted: the interrupt is kept and an IllegalStateException names {@code what}.
   */
  public static <T> T join(Future<T> f, String what) {
    try {
      return f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for " + what, e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw new IllegalStateException(e.getCause());
    }
  }

  /**
   * Waits for {@code f} to end, ignoring its result and failure (when another failure is the one to report). An
   * interrupt does not stop the wait; it is kept for the caller.
   */
  public static void awaitQuietly(Future<?> f) {
    boolean interrupted = false;
    while (true) {
      try {
        f.get();
        break;
      } catch (InterruptedException e) {
        interrupted = true;
      } catch (ExecutionException | CancellationException e) {
        break;
      }
    }
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }
}
