package dev.lethe.tests;

import java.io.IOException;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.TaskContext;

/**
 * Fault injection for tests, from outside the product: the local file system, except that a Spark task's first
 * attempt fails when it opens a file of a workdir's training table ({@code data/train.parquet}), so Spark must retry
 * it. The driver's own reads are untouched. A stage's JVM takes it with
 * {@code -Dspark.hadoop.fs.file.impl=dev.lethe.tests.FailFirstAttemptFileSystem} and
 * {@code -Dspark.hadoop.fs.file.impl.disable.cache=true} (so no earlier, plain instance is reused), with this class on
 * its class path.
 */
public class FailFirstAttemptFileSystem extends LocalFileSystem {
  /** The start of the message of each injected failure. */
  static final String INJECTED = "injected failure of the first attempt of task";

  /** The JVM options that make a stage's JVM use this file system for file: paths. */
  static final java.util.List<String> JVM_OPTIONS = java.util.List.of(
      "-Dspark.hadoop.fs.file.impl=" + FailFirstAttemptFileSystem.class.getName(),
      "-Dspark.hadoop.fs.file.impl.disable.cache=true");

  @Override
  public FSDataInputStream open(Path f, int bufferSize) throws IOException {
    TaskContext task = TaskContext.get();
    if (task != null && task.attemptNumber() == 0 && f.toUri().getPath().contains("/data/train.parquet/")) {
      throw new IOException(INJECTED + " " + task.partitionId() + " of stage " + task.stageId() + ": " + f);
    }
    return super.open(f, bufferSize);
  }
}
