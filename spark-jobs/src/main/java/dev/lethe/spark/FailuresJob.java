package dev.lethe.spark;

import dev.lethe.Seeds;
import dev.lethe.config.LetheConfig;
import dev.lethe.data.ExampleSet;
import dev.lethe.model.ModelStore;
import dev.lethe.model.Predictor;
import dev.lethe.spark.io.ExampleTables;
import dev.lethe.spark.io.ModelFiles;
import dev.lethe.spark.io.Workdir;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * Stage {@code failures}: predicts the test set with model/base.zip; the misclassified examples F are split
 * (seeded) into the query set Fq (used to identify causes) and the holdout Fh (only to measure generalisation);
 * the correctly classified rest is T\F.
 */
public final class FailuresJob {
  public static final String QUERY = "failures/query.parquet";
  public static final String HOLDOUT = "failures/holdout.parquet";
  public static final String REMAINING = "failures/remaining.parquet";

  private FailuresJob() {}

  public static void main(String[] args) {
    StageRunner.main("failures", args);
  }

  /** The split of a test set into Fq, Fh and T\F (positions into the test set). */
  public record Split(int[] query, int[] holdout, int[] remaining, int[] predicted) {
    public double accuracy() {
      return remaining.length / (double) predicted.length;
    }
  }

  /**
   * Splits the misclassified test examples after a seeded shuffle: |Fq| = round(queryFraction |F|), the rest
   * is Fh.
   */
  public static Split split(int[] predicted, int[] labels, double queryFraction, long seed) {
    List<Integer> failed = new ArrayList<>();
    List<Integer> rest = new ArrayList<>();
    for (int i = 0; i < labels.length; i++) {
      (predicted[i] == labels[i] ? rest : failed).add(i);
    }
    int[] f = failed.stream().mapToInt(Integer::intValue).toArray();
    SplittableRandom rnd = new SplittableRandom(seed);
    for (int i = f.length - 1; i > 0; i--) {
      int j = rnd.nextInt(i + 1);
      int t = f[i];
      f[i] = f[j];
      f[j] = t;
    }
    int nq = (int) Math.round(queryFraction * f.length);
    int[] q = java.util.Arrays.copyOfRange(f, 0, nq);
    int[] h = java.util.Arrays.copyOfRange(f, nq, f.length);
    java.util.Arrays.sort(q);
    java.util.Arrays.sort(h);
    return new Split(q, h, rest.stream().mapToInt(Integer::intValue).toArray(), predicted);
  }

  /** {@code failures.query-fraction}, checked (the pipeline checks it before its first stage). */
  static double queryFraction(LetheConfig c) {
    return c.doubleIn("failures.query-fraction", 0.0, 1.0);
  }

  static void run(JobContext ctx) {
    Workdir wd = ctx.workdir();
    wd.requireWritable(List.of(QUERY, HOLDOUT, REMAINING));
    wd.requireInput(PrepareJob.TEST, "prepare");
    MultiLayerNetwork net = ModelFiles.load(wd, ModelFiles.BASE, "train");
    double queryFraction = queryFraction(ctx.config());
    int numClasses = ctx.config().positiveInt("data.num-classes");
    ctx.describe("predict test set");
    ExampleSet test = ExampleTables.readCollected(ctx.spark(), wd.path(PrepareJob.TEST).toString(),
        ExampleTables.DATA, PrepareJob.TEST, false, ModelFiles.numInputs(net), numClasses,
        wd.path(PrepareJob.TEST).toString());
    int[] predicted = Predictor.predict(net, test, 256);
    Split s = split(predicted, test.labels(), queryFraction, Seeds.derive(ctx.seed(), "failures.split"));

    try (Workdir.Staging out = wd.stage("failures")) {
      int parts = Math.max(1, ctx.spark().sparkContext().defaultParallelism());
      write(ctx, test, s.query(), predicted, out.path(QUERY).toString(), parts);
      write(ctx, test, s.holdout(), predicted, out.path(HOLDOUT).toString(), parts);
      write(ctx, test, s.remaining(), predicted, out.path(REMAINING).toString(), parts);
      String prov = ctx.provenance("failures").input(wd, PrepareJob.TEST)
          .input(wd, wd.path(ModelFiles.BASE), ModelStore.fingerprint(net))
          .put("test_rows", test.size()).put("test_accuracy", s.accuracy())
          .put("query_rows", s.query().length).put("holdout_rows", s.holdout().length)
          .put("remaining_rows", s.remaining().length).toJson();
      for (String rel : List.of(QUERY, HOLDOUT, REMAINING)) {
        out.writeProvenance(rel, prov);
      }
      out.commit();
    }
    ctx.console().line("failures: test accuracy %.2f%% (%d of %d); failures %d -> query Fq %d, holdout Fh %d;"
        + " remaining T\\F %d", 100 * s.accuracy(), s.remaining().length, test.size(),
        s.query().length + s.holdout().length, s.query().length, s.holdout().length, s.remaining().length);
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
