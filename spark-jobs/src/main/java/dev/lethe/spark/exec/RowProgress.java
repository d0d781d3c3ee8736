package dev.lethe.spark.exec;

import java.util.Locale;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.util.LongAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Driver-side progress of a distributed per-row pass: tasks add processed rows to a {@link LongAccumulator}, and a
 * daemon thread logs done/total, rate and ETA at INFO every {@code periodSeconds}. Spark merges a task's
 * accumulator updates when the task ends, so the count advances per finished task (more partitions than cores
 * give finer progress); tasks also log their own progress ({@link #taskLog}).
 */
public final class RowProgress implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(RowProgress.class);

  private final String what;
  private final long total;
  private final LongAccumulator rows;
  private final long t0 = System.nanoTime();
  private final ScheduledExecutorService timer;

  public RowProgress(JavaSparkContext jsc, String what, long total, int periodSeconds) {
    this.what = what;
    this.total = total;
    this.rows = jsc.sc().longAccumulator(what + " rows");
    this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "lethe-progress");
      t.setDaemon(true);
      return t;
    });
    timer.scheduleAtFixedRate(this::log, periodSeconds, periodSeconds, TimeUnit.SECONDS);
  }

  /** The accumulator tasks add their rows to (capture it in the task closure). */
  public LongAccumulator rows() {
    return rows;
  }

  private void log() {
    long done = rows.value();
    double secs = (System.nanoTime() - t0) / 1e9;
    double rate = done / Math.max(secs, 1e-9);
    LOG.info("{}: {}/{} rows ({}%) in finished tasks, {} rows/s, ETA {}", what, done, total,
        String.format(Locale.ROOT, "%.0f", 100.0 * done / Math.max(1, total)),
        String.format(Locale.ROOT, "%.1f", rate), done == 0 ? "?" : String.format(Locale.ROOT, "%.0f s",
            (total - done) / rate));
  }

  /** Stops the progress thread. */
  @Override
  public void close() {
    timer.shutdownNow();
  }

  /** A task's own progress line: rows so far in this partition and the rate. */
  public static void taskLog(Logger log, String what, int partition, long done, long startNanos, boolean last) {
    double secs = (System.nanoTime() - startNanos) / 1e9;
    log.info("{} partition {}: {} rows{}, {} rows/s", what, partition, done, last ? " (done)" : "",
        String.format(Locale.ROOT, "%.1f", done / Math.max(secs, 1e-9)));
  }
}
