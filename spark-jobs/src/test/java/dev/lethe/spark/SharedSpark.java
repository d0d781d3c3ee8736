package dev.lethe.spark;

import org.apache.spark.sql.SparkSession;

/**
 * The one local SparkSession of the test JVM (local[2], UI off, bound to 127.0.0.1), shared by every test class
 * and never stopped between classes: StageRunner reuses an existing session and does not stop it.
 */
public final class SharedSpark {
  private static SparkSession spark;

  private SharedSpark() {}

  public static synchronized SparkSession get() {
    if (spark == null) {
      spark = SparkSession.builder().master("local[2]").appName("lethe-tests")
          .config("spark.ui.enabled", "false")
          .config("spark.driver.host", "127.0.0.1")
          .config("spark.driver.bindAddress", "127.0.0.1")
          .config("spark.sql.shuffle.partitions", "4")
          .getOrCreate();
    }
    return spark;
  }
}
