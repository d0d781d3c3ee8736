package dev.lethe.spark;

/**
 * The application jar's main class: {@code lethe <stage> --workdir DIR ...}. Each stage also has its own main
 * class ({@link PrepareJob}, {@link TrainJob}, ...) for spark-submit {@code --class}, Airflow and Databricks.
 */
public final class LetheMain {
  private LetheMain() {}

  public static void main(String[] args) {
    StageRunner.main(null, args);
  }
}
