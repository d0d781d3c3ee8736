package dev.lethe.spark;

import dev.lethe.config.LetheConfig;
import dev.lethe.spark.cli.Console;
import dev.lethe.spark.cli.StageArgs;
import dev.lethe.spark.io.Provenance;
import dev.lethe.spark.io.Workdir;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;

/** Everything a stage needs: the Spark session, the validated config, the workdir and the console. */
public record JobContext(SparkSession spark, LetheConfig config, Workdir workdir, StageArgs args, Console console) {

  public JavaSparkContext jsc() {
    return JavaSparkContext.fromSparkContext(spark.sparkContext());
  }

  public long seed() {
    return config.getLong("seed");
  }

  /** A provenance record for an output of {@code stage}. */
  public Provenance provenance(String stage) {
    return new Provenance(stage, config);
  }

  /** Partitions for a distributed pass: the config value, or the cluster's default parallelism when 0. */
  public int partitions(String key) {
    int p = config.nonNegativeInt(key);
    return p > 0 ? p : Math.max(1, spark.sparkContext().defaultParallelism());
  }

  /** The same context with {@code stage} as the running stage (the pipeline runs every stage in one session). */
  public JobContext forStage(String stage) {
    return new JobContext(spark, config, workdir, args.withStage(stage), console);
  }

  /** The same context with another configuration (the pipeline runs repair once per method). */
  public JobContext withConfig(LetheConfig other) {
    return new JobContext(spark, other, workdir, args, console);
  }

  /** Labels the Spark UI's jobs for this step. */
  public void describe(String description) {
    spark.sparkContext().setJobDescription("lethe " + args.stage() + ": " + description);
  }
}
