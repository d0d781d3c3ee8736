package dev.lethe.spark.io;

import java.util.List;
import java.util.Optional;

/**
 * Where every stage's outputs live inside a workdir, relative to its root. The one place that names a workdir path:
 * a stage finds the outputs of the stages before it here, never in another stage's job class.
 *
 * <pre>
 * data/train.parquet, data/test.parquet          prepare
 * model/base.zip, model/checkpoints.bin           train
 * failures/{query,holdout,benchmark,correct-holdout}.parquet   failures
 * fisher/diag.bin, fisher/logp.bin                fisher
 * rankings/&lt;method&gt;.parquet, model/ewc-updated.zip   identify
 * repair/&lt;method&gt;/{report.json,model.zip}         repair
 * report/{index.html,summary.json,*.png}          report
 * </pre>
 */
public final class WorkdirLayout {
  /** The prepared training set D, with corruption flags. */
  public static final String TRAIN = "data/train.parquet";
  /** The prepared test set. */
  public static final String TEST = "data/test.parquet";

  /** The trained base model theta_hat. */
  public static final String BASE_MODEL = "model/base.zip";
  /** The training checkpoints TracIn reads ({@link dev.lethe.model.TrainingCheckpoints}). */
  public static final String CHECKPOINTS = "model/checkpoints.bin";
  /** ewc-influence's updated model theta*. */
  public static final String EWC_UPDATED_MODEL = "model/ewc-updated.zip";

  /** Fq: the failures the methods use. */
  public static final String QUERY = "failures/query.parquet";
  /** Fh: the failures held out for reporting. */
  public static final String HOLDOUT = "failures/holdout.parquet";
  /** B: correctly classified test examples the repair guardrail is measured on. */
  public static final String BENCHMARK = "failures/benchmark.parquet";
  /** The T\F holdout: correctly classified test examples kept for reporting. */
  public static final String CORRECT_HOLDOUT = "failures/correct-holdout.parquet";
  /** Every output of the failures stage. */
  public static final List<String> FAILURES = List.of(QUERY, HOLDOUT, BENCHMARK, CORRECT_HOLDOUT);

  /** The empirical Fisher diagonal. */
  public static final String FISHER_DIAG = "fisher/diag.bin";
  /** log p(z | theta_hat) per training example, written alongside the Fisher diagonal. */
  public static final String FISHER_LOGP = "fisher/logp.bin";

  /** The folder of the rankings, one table per identification method. */
  public static final String RANKINGS_DIR = "rankings";

  /** The folder of the repair outputs, one sub-folder per method. */
  public static final String REPAIR_DIR = "repair";
  /** A repair's report, inside its method's folder. */
  public static final String REPAIR_REPORT = "report.json";
  /** An accepted repair's model, inside its method's folder. */
  public static final String REPAIRED_MODEL = "model.zip";
  /** A rejected repair's closest model, inside its method's folder. */
  public static final String REJECTED_MODEL = "model-rejected.zip";

  /** The folder of the run report. */
  public static final String REPORT_DIR = "report";
  public static final String REPORT_INDEX = "index.html";
  public static final String REPORT_SUMMARY = "summary.json";
  public static final String IDENTIFICATION_PNG = "identification.png";
  public static final String TRADEOFF_PNG = "repair-tradeoff.png";

  private WorkdirLayout() {}

  /** The ranking of every training example by {@code method}. */
  public static String ranking(String method) {
    return RANKINGS_DIR + "/" + method + ".parquet";
  }

  /**
   * The name {@code rel} had in workdirs written before the renames noted in the README ("Migrating from earlier
   * versions"): rankings/ was culprits/, and the T\F holdout was failures/remaining.parquet.
   */
  public static Optional<String> formerName(String rel) {
    if (rel.equals(CORRECT_HOLDOUT)) {
      return Optional.of("failures/remaining.parquet");
    }
    if (rel.startsWith(RANKINGS_DIR + "/")) {
      return Optional.of("culprits/" + rel.substring(RANKINGS_DIR.length() + 1));
    }
    return Optional.empty();
  }

  /** The repair outputs of {@code method}. */
  public static String repairDir(String method) {
    return REPAIR_DIR + "/" + method;
  }

  /** The report.json of {@code method}'s repair. */
  public static String repairReport(String method) {
    return repairDir(method) + "/" + REPAIR_REPORT;
  }

  /** A file of the run report. */
  public static String report(String file) {
    return REPORT_DIR + "/" + file;
  }
}
