package dev.lethe;

import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;

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

  /**
   * A value computed on a daemon thread of its own while the caller does something else. {@link #close} waits for
   * the work to end (ignoring its failure, which a caller leaving early does not report), so no work outlives the
   * scope that started it:
   *
   * <pre>
   *   try (Background&lt;Table&gt; table = Background.start("read-table", this::read)) {
   *     prepare();                                 // a failure here waits for the read, then propagates
   *     use(table.join("the table"));              // the read's own failure is rethrown here
   *   }
   * </pre>
   */
  public static final class Background<T> implements AutoCloseable {
    private final ExecutorService thread;
    private final Future<T> result;

    private Background(String threadName, Supplier<T> work) {
      this.thread = Executors.newSingleThreadExecutor(r -> {
        Thread th = new Thread(r, threadName);
        th.setDaemon(true);
        return th;
      });
      this.result = thread.submit(work::get);
      thread.shutdown(); // the thread ends with the work
    }

    /** Starts {@code work} on a new daemon thread named {@code threadName}. */
    public static <T> Background<T> start(String threadName, Supplier<T> work) {
      return new Background<>(threadName, work);
    }

    /** The work's value, or its failure rethrown as {@link Futures#join} does ({@code what} names it). */
    public T join(String what) {
      return Futures.join(result, what);
    }

    /** Waits for the work to end, ignoring its result and failure. */
    @Override
    public void close() {
      awaitQuietly(result);
    }
  }
}
