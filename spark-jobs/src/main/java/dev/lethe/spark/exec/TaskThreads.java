package dev.lethe.spark.exec;

import dev.lethe.math.backend.BackendSelector;
import dev.lethe.math.backend.ComputeBackend;
import org.apache.spark.SparkContext;
import org.apache.spark.TaskContext;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ND4J's native thread count inside Spark tasks. A Spark executor already runs one task per core, and ND4J by
 * default also parallelises every op over all cores: with small per-example ops (batch size 1 backward passes)
 * the threads may contend. This limits each task's ND4J ops ({@code spark.nd4j-task-threads} in
 * conf/reference.conf, which records the measurements).
 *
 * <p>ND4J's settings are process-wide (libnd4j's Environment and the BLAS thread count), not per thread: tasks
 * set them idempotently on the executor, and the driver restores its own values after a distributed pass (in
 * local mode the driver and the tasks share one JVM).
 */
public final class TaskThreads {
  private static final Logger LOG = LoggerFactory.getLogger(TaskThreads.class);

  private TaskThreads() {}

  /** ND4J's current thread settings. */
  public record Setting(int maxThreads, int maxMasterThreads, int blasThreads) {}

  /** The process's current settings (call on the driver before a distributed pass). */
  public static Setting current() {
    var env = Nd4j.getEnvironment();
    return new Setting(env.maxThreads(), env.maxMasterThreads(), Nd4j.factory().blas().getMaxThreads());
  }

  /**
   * On the driver: sets the process's {@code compute.backend} and hands it to the tasks of the jobs this thread
   * submits (a Spark local property), where {@link #limit} applies it on the executor.
   */
  public static void configureCompute(SparkContext sc, ComputeBackend mode) {
    BackendSelector.configure(mode);
    sc.setLocalProperty(COMPUTE_PROPERTY, mode.configName());
  }

  /** The Spark local property that carries {@code compute.backend} to the tasks. */
  static final String COMPUTE_PROPERTY = "lethe.compute.backend";

  /**
   * In a task: applies the driver's {@code compute.backend} ({@link #configureCompute}) and limits ND4J to
   * {@code threads} native threads (0 = leave ND4J's default). Called at the start of every task: libnd4j's limits
   * are process-wide, but the BLAS (OpenMP) thread count is a per-thread setting of the calling thread, and Spark
   * may run the next task on another pool thread.
   */
  public static synchronized void limit(int threads) {
    TaskContext task = TaskContext.get();
    String compute = task == null ? null : task.getLocalProperty(COMPUTE_PROPERTY);
    if (compute != null) {
      BackendSelector.configure(ComputeBackend.parse(compute));
    }
    if (threads <= 0) {
      return;
    }
    var env = Nd4j.getEnvironment();
    if (env.maxThreads() != threads || env.maxMasterThreads() != threads) {
      env.setMaxThreads(threads);
      env.setMaxMasterThreads(threads);
      LOG.info("ND4J limited to {} native thread(s) per task", threads);
    }
    Nd4j.factory().blas().setMaxThreads(threads);
  }

  /** Restores settings taken with {@link #current()}. */
  public static void restore(Setting s) {
    var env = Nd4j.getEnvironment();
    env.setMaxThreads(s.maxThreads());
    env.setMaxMasterThreads(s.maxMasterThreads());
    Nd4j.factory().blas().setMaxThreads(s.blasThreads());
  }
}
