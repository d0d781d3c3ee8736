package dev.lethe.spark;

import dev.lethe.LetheInputException;
import dev.lethe.Seeds;
import dev.lethe.config.LetheConfig;
import dev.lethe.config.Options;
import dev.lethe.data.ExampleSet;
import dev.lethe.influence.ConfidentLearning;
import dev.lethe.influence.ConfidentLearningOptions;
import dev.lethe.influence.EnsembleInfluence;
import dev.lethe.influence.InfluenceInputs;
import dev.lethe.influence.InfluenceMethods;
import dev.lethe.influence.OutOfFold;
import dev.lethe.influence.OutOfFoldTraining;
import dev.lethe.influence.Ranking;
import dev.lethe.influence.TracInInfluence;
import dev.lethe.model.ModelOptions;
import dev.lethe.model.Models;
import dev.lethe.model.TrainOptions;
import dev.lethe.model.TrainingCheckpoints;
import dev.lethe.spark.exec.TaskThreads;
import dev.lethe.spark.io.ExampleTables;
import dev.lethe.spark.io.ModelFiles;
import dev.lethe.spark.io.Provenance;
import dev.lethe.spark.io.Workdir;
import dev.lethe.spark.io.WorkdirLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * What the identify methods need beyond theta_hat, the Fisher diagonal and Fq: the training checkpoints of tracin and
 * self-influence (model/checkpoints.bin from {@code train}), the out-of-fold probabilities of confident-learning,
 * whose k fold trainings run here as k Spark tasks in parallel ({@link OutOfFoldTraining}), and the member rankings
 * of ensemble (their ranking tables).
 */
final class MethodArtefacts {
  /** Timings and settings of the artefacts, for the ranking table's provenance. */
  final Map<String, Object> record = new LinkedHashMap<>();
  private boolean checkpointsRead;
  private final List<String> rankingsRead = new ArrayList<>();

  /** Checks the settings the artefacts read (the pipeline's check). */
  static void validate(LetheConfig c) {
    Options.confidentLearning(c);
    TracInInfluence.tracin(c);
    dev.lethe.influence.LinearInfluence.of(false, c);
  }

  /**
   * The ranking tables method {@code identify.method} reads: ensemble's members' ranking tables, each published by
   * identify with that method (none for the other methods).
   */
  static List<StageJob.Input> rankingInputs(LetheConfig c) {
    if (!EnsembleInfluence.NAME.equals(c.getString("identify.method").trim())) {
      return List.of();
    }
    return ensemble(c).members().stream().map(m -> new StageJob.Input(WorkdirLayout.ranking(m),
        "identify --method " + m)).toList();
  }

  private static EnsembleInfluence ensemble(LetheConfig c) {
    return (EnsembleInfluence) InfluenceMethods.byName(EnsembleInfluence.NAME, c);
  }

  /** Whether method {@code name} reads the training checkpoints. */
  static boolean usesCheckpoints(String name) {
    return TracInInfluence.TRACIN.equals(name) || TracInInfluence.SELF_INFLUENCE.equals(name);
  }

  /** {@code in} with what method {@code name} needs attached; the rest of the methods get {@code in} itself. */
  InfluenceInputs attach(JobContext ctx, String name, InfluenceInputs in, String fingerprint, String trainPath) {
    Workdir wd = ctx.workdir();
    if (usesCheckpoints(name)) {
      wd.requireInput(WorkdirLayout.CHECKPOINTS, "train");
      String where = wd.path(WorkdirLayout.CHECKPOINTS).toString();
      TrainingCheckpoints cps = TrainingCheckpoints.fromBytes(wd.readBytes(WorkdirLayout.CHECKPOINTS), where);
      if (!cps.modelFingerprint().equals(fingerprint)) {
        throw LetheInputException.of("%s: checkpoints of another model (theirs ends at %s, model/base.zip is %s):"
            + " rerun `lethe train --overwrite`", where, cps.modelFingerprint(), fingerprint);
      }
      checkpointsRead = true;
      record.put("checkpoint_epochs", cps.checkpoints().stream().map(TrainingCheckpoints.Checkpoint::epoch).toList());
      return in.withCheckpoints(cps);
    }
    if (ConfidentLearning.NAME.equals(name)) {
      return in.withOutOfFold(outOfFold(ctx, in.model(), trainPath));
    }
    if (EnsembleInfluence.NAME.equals(name)) {
      return in.withRankings(rankings(ctx, ensemble(ctx.config()).members()));
    }
    return in;
  }

  /** The rankings of {@code members}, read from their ranking tables (each required as an input). */
  private List<Ranking> rankings(JobContext ctx, List<String> members) {
    Workdir wd = ctx.workdir();
    List<Ranking> out = new ArrayList<>();
    for (String m : members) {
      String rel = WorkdirLayout.ranking(m);
      wd.requireInput(rel, "identify --method " + m);
      List<Row> rows = ctx.spark().read().parquet(wd.path(rel).toString()).select("id", "rank").collectAsList();
      long[] ids = new long[rows.size()];
      long[] ranks = new long[rows.size()];
      for (int i = 0; i < ids.length; i++) {
        ids[i] = rows.get(i).getLong(0);
        ranks[i] = rows.get(i).getLong(1);
      }
      try {
        out.add(Ranking.of(m, ids, ranks));
      } catch (IllegalArgumentException e) {
        throw new LetheInputException(wd.path(rel) + ": " + e.getMessage() + ": rerun `lethe identify --method " + m
            + " --overwrite`", e);
      }
      rankingsRead.add(rel);
    }
    record.put("members", members);
    return out;
  }

  /** Names the artefacts read in {@code prov}. */
  void inputs(Workdir wd, Provenance prov) {
    if (checkpointsRead) {
      prov.input(wd, WorkdirLayout.CHECKPOINTS);
    }
    rankingsRead.forEach(rel -> prov.input(wd, rel));
  }

  /**
   * k-fold out-of-fold probabilities: the training set collected in id order and broadcast, one Spark task per fold,
   * each training the base model's architecture with the training settings ({@code model.*}, {@code train.*}; the
   * epoch cap {@code identify.confident-learning.max-epochs} when set).
   */
  private OutOfFold outOfFold(JobContext ctx, MultiLayerNetwork base, String trainPath) {
    LetheConfig c = ctx.config();
    ConfidentLearningOptions o = Options.confidentLearning(c);
    ModelOptions mo = Options.model(c);
    TrainOptions t = Options.train(c);
    TrainOptions to = o.maxEpochs() == 0 ? t : new TrainOptions(t.learningRate(), t.batchSize(), o.maxEpochs(),
        t.patience(), t.validationFraction(), t.seed());
    long params = Models.build(mo).numParams();
    if (params != base.numParams()) {
      throw LetheInputException.of("config key 'model.architecture': the configured model has %d parameters,"
          + " model/base.zip %d; confident-learning trains its folds with the base model's architecture", params,
          base.numParams());
    }
    ctx.describe("collect the training set for confident learning's folds");
    ExampleSet train = OutOfFoldTraining.sortedById(ExampleTables.readCollected(ctx.spark(), trainPath,
        ExampleTables.DATA, WorkdirLayout.TRAIN, false, ModelFiles.numInputs(base), mo.numClasses(), trainPath));
    int k = o.folds();
    if (k > train.size()) {
      throw LetheInputException.of("config key 'identify.confident-learning.folds': %d folds for %d training"
          + " examples", k, train.size());
    }
    int[] fold = OutOfFoldTraining.foldOf(train.ids(), k, Seeds.derive(ctx.seed(), "identify.confident-learning"));
    int threads = c.nonNegativeInt("spark.nd4j-task-threads");
    long t0 = System.nanoTime();
    Broadcast<ExampleSet> data = ctx.jsc().broadcast(train);
    TaskThreads.Setting driverThreads = TaskThreads.current();
    List<OutOfFoldTraining.Fold> folds;
    try {
      ctx.describe("confident learning: train " + k + " folds in parallel");
      folds = ctx.jsc().parallelize(IntStream.range(0, k).boxed().toList(), k).map(f -> {
        TaskThreads.limit(threads);
        return OutOfFoldTraining.trainFold(data.value(), fold, f, mo, to);
      }).collect();
    } finally {
      TaskThreads.restore(driverThreads);
      data.destroy();
    }
    double seconds = (System.nanoTime() - t0) / 1e9;
    record.put("folds", k);
    record.put("fold_training_seconds", seconds);
    record.put("fold_epochs", folds.stream().map(OutOfFoldTraining.Fold::epochs).toList());
    ctx.console().line("identify: confident-learning trained %d folds in %.1f s (%s)", k, seconds,
        ctx.spark().sparkContext().master());
    return OutOfFoldTraining.assemble(train, folds);
  }
}
