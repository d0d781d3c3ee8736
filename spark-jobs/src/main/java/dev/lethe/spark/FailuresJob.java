package dev.lethe.spark;

import dev.lethe.LetheInputException;
import dev.lethe.config.LetheConfig;
import dev.lethe.data.ExampleSet;
import dev.lethe.data.TestSplit;
import dev.lethe.model.ModelStore;
import dev.lethe.model.Predictor;
import dev.lethe.spark.io.ExampleTables;
import dev.lethe.spark.io.ModelFiles;
import dev.lethe.spark.io.UserColumns;
import dev.lethe.spark.io.Workdir;
import dev.lethe.spark.io.WorkdirLayout;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stage {@code failures}: predicts the test set with model/base.zip and splits it ({@link TestSplit}): the
 * misclassified examples into the query set Fq (used to identify causes and to repair) and the holdout Fh (only to
 * measure generalisation); the correctly classified ones into the benchmark cases B (the repair's guardrail) and the
 * T\F holdout (only to measure what a repair breaks). A user may give their own B ({@code failures.benchmark-table});
 * then every correctly classified test example goes to the T\F holdout.
 */
public final class FailuresJob implements StageJob {
  private static final Logger LOG = LoggerFactory.getLogger(FailuresJob.class);


  public static void main(String[] args) {
    StageRunner.main(Stage.FAILURES, args);
  }

  /**
   * The validated settings.
   *
   * @param queryFraction {@code failures.query-fraction}: the share of F that goes to Fq, in [0, 1]
   * @param benchmarkFraction {@code failures.benchmark-fraction}: the share of T\F that goes to B, in (0, 1)
   * @param benchmarkTable {@code failures.benchmark-table}: a Parquet table of the user's B (Hadoop path), or ""
   * @param queryClasses {@code failures.query-classes}: the true classes Fq is drawn from; empty = all
   * @param queryTable {@code failures.query-table}: a Parquet table of the user's failures Fq (Hadoop path), or ""
   */
  record Settings(double queryFraction, double benchmarkFraction, String benchmarkTable, List<Integer> queryClasses,
      String queryTable) {
    static Settings of(LetheConfig c) {
      int numClasses = c.positiveInt("data.num-classes");
      List<Integer> queryClasses = c.getIntList(TestSplit.QUERY_CLASSES_KEY);
      for (int q : queryClasses) {
        if (q < 0 || q >= numClasses) {
          throw LetheInputException.of("config key '%s': class %d is outside [0, %d)", TestSplit.QUERY_CLASSES_KEY,
              q, numClasses);
        }
      }
      String table = c.getString("failures.benchmark-table").trim();
      String query = c.getString("failures.query-table").trim();
      if (!table.isEmpty() || !query.isEmpty()) {
        UserColumns.of(c);
      }
      double benchmark = c.getDouble("failures.benchmark-fraction");
      if (table.isEmpty() && !(benchmark > 0 && benchmark < 1)) {
        throw LetheInputException.of("config key 'failures.benchmark-fraction': must be in (0, 1) (the share of the"
            + " correctly classified test examples kept as the benchmark cases B), got %s", benchmark);
      }
      return new Settings(c.doubleIn("failures.query-fraction", 0.0, 1.0), benchmark, table, queryClasses, query);
    }
  }

  @Override
  public void validate(LetheConfig c, Configuration hadoop) {
    Settings.of(c);
  }

  @Override
  public List<Input> inputs(LetheConfig c) {
    return StageJob.withBaseModel(c, new Input(WorkdirLayout.TEST, "prepare"));
  }

  @Override
  public List<String> outputs(LetheConfig c) {
    return WorkdirLayout.FAILURES;
  }

  @Override
  public void run(JobContext ctx) {
    Settings settings = Settings.of(ctx.config());
    Workdir wd = ctx.workdir();
    ModelFiles.Base base = ModelFiles.base(wd, ctx.config());
    MultiLayerNetwork net = base.net();
    int numClasses = ctx.config().positiveInt("data.num-classes");
    int numFeatures = ModelFiles.numInputs(net);
    ExampleSet userBenchmark = settings.benchmarkTable().isEmpty() ? null : userTable(ctx,
        "failures.benchmark-table", settings.benchmarkTable(), numFeatures, numClasses);
    ExampleSet userQuery = settings.queryTable().isEmpty() ? null : userTable(ctx, "failures.query-table",
        settings.queryTable(), numFeatures, numClasses);
    ctx.describe("predict test set");
    ExampleSet test = ExampleTables.readCollected(ctx.spark(), wd.path(WorkdirLayout.TEST).toString(),
        ExampleTables.DATA, WorkdirLayout.TEST, false, numFeatures, numClasses, wd.path(WorkdirLayout.TEST).toString());
    int[] predicted = Predictor.predict(net, test, 256);
    TestSplit s = TestSplit.of(predicted, test.labels(), userQuery == null ? settings.queryFraction() : 0.0,
        userBenchmark == null ? settings.benchmarkFraction() : 0.0, ctx.seed(), settings.queryClasses());
    if (userBenchmark == null && s.benchmark().length == 0) {
      throw LetheInputException.of("failures: no test example is classified correctly, so there are no benchmark"
          + " cases B (test accuracy 0 of %d)", test.size());
    }

    try (Workdir.Staging out = wd.stage("failures")) {
      int parts = Math.max(1, ctx.spark().sparkContext().defaultParallelism());
      int queryRows;
      if (userQuery == null) {
        write(ctx, test, s.query(), predicted, out.path(WorkdirLayout.QUERY).toString(), parts);
        queryRows = s.query().length;
      } else {
        int[] q = Predictor.predict(net, userQuery, 256);
        long right = java.util.stream.IntStream.range(0, q.length).filter(i -> q[i] == userQuery.label(i)).count();
        if (right > 0) {
          LOG.warn("failures.query-table: the model classifies {} of its {} rows correctly", right, q.length);
        }
        ExampleTables.write(ExampleTables.failuresFrame(ctx.spark(), userQuery, q, parts),
            out.path(WorkdirLayout.QUERY).toString());
        queryRows = userQuery.size();
      }
      write(ctx, test, s.holdout(), predicted, out.path(WorkdirLayout.HOLDOUT).toString(), parts);
      write(ctx, test, s.correctHoldout(), predicted, out.path(WorkdirLayout.CORRECT_HOLDOUT).toString(), parts);
      int benchmarkRows;
      if (userBenchmark == null) {
        write(ctx, test, s.benchmark(), predicted, out.path(WorkdirLayout.BENCHMARK).toString(), parts);
        benchmarkRows = s.benchmark().length;
      } else {
        ExampleTables.write(ExampleTables.failuresFrame(ctx.spark(), userBenchmark,
            Predictor.predict(net, userBenchmark, 256), parts), out.path(WorkdirLayout.BENCHMARK).toString());
        benchmarkRows = userBenchmark.size();
      }
      var prov = ctx.provenance("failures").input(wd, WorkdirLayout.TEST)
          .input(wd, base.path(), ModelStore.fingerprint(net));
      if (userBenchmark != null) {
        prov.put("benchmark_table", settings.benchmarkTable());
      }
      if (userQuery != null) {
        prov.put("query_table", settings.queryTable());
      }
      if (!settings.queryClasses().isEmpty()) {
        prov.put("query_classes", settings.queryClasses());
      }
      String json = prov.put("test_rows", test.size()).put("test_accuracy", s.accuracy())
          .put("query_rows", queryRows).put("holdout_rows", s.holdout().length)
          .put("benchmark_rows", benchmarkRows).put("correct_holdout_rows", s.correctHoldout().length).toJson();
      for (String rel : WorkdirLayout.FAILURES) {
        out.writeProvenance(rel, json);
      }
      out.commit();
      ctx.console().line("failures: test accuracy %.2f%% (%d of %d); failures %d -> query Fq %d%s, holdout Fh %d;"
          + " correct %d -> benchmark B %d%s, T\\F holdout %d", 100 * s.accuracy(),
          s.benchmark().length + s.correctHoldout().length, test.size(), s.query().length + s.holdout().length,
          queryRows, settings.queryClasses().isEmpty() ? "" : " (true classes " + settings.queryClasses()
          + ")", s.holdout().length, s.benchmark().length + s.correctHoldout().length, benchmarkRows,
          userBenchmark == null ? "" : " (from failures.benchmark-table)", s.correctHoldout().length);
    }
  }

  /**
   * The user's benchmark cases or failures (columns as {@code data.columns.*} name them); a missing, malformed or
   * empty table is bad input naming the key.
   */
  private static ExampleSet userTable(JobContext ctx, String key, String table, int numFeatures, int numClasses) {
    ExampleSet b;
    try {
      b = ExampleTables.collectPossiblyEmpty(UserColumns.of(ctx.config()).read(ctx.spark(), table, table), true,
          numFeatures, numClasses, table);
    } catch (LetheInputException e) {
      throw new LetheInputException("config key '" + key + "': " + e.getMessage(), e);
    }
    if (b.size() == 0) {
      throw LetheInputException.of("config key '%s': %s: the table is empty; it needs at least one example", key,
          table);
    }
    return b;
  }

  private static void write(JobContext ctx, ExampleSet test, int[] rows, int[] predicted, String path, int parts) {
    ExampleSet part = test.select(rows);
    int[] pred = new int[rows.length];
    for (int i = 0; i < rows.length; i++) {
      pred[i] = predicted[rows[i]];
    }
    ExampleTables.write(ExampleTables.failuresFrame(ctx.spark(), part, pred, parts), path);
  }
}
