package dev.lethe.spark;

import dev.lethe.LetheInputException;
import dev.lethe.config.LetheConfig;
import dev.lethe.config.Options;
import dev.lethe.data.ExampleSet;
import dev.lethe.model.ModelOptions;
import dev.lethe.model.ModelStore;
import dev.lethe.model.Models;
import dev.lethe.model.Predictor;
import dev.lethe.model.TrainOptions;
import dev.lethe.model.TrainResult;
import dev.lethe.model.Trainer;
import dev.lethe.spark.io.ExampleTables;
import dev.lethe.spark.io.ModelFiles;
import dev.lethe.spark.io.Workdir;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * Stage {@code train}: fits the configured architecture (the paper's CNN by default) on data/train.parquet with
 * Adam and early stopping on a seeded validation split, on the driver or with dl4j-spark parameter averaging
 * ({@code train.distributed = true}), and writes model/base.zip.
 */
public final class TrainJob {
  private TrainJob() {}

  public static void main(String[] args) {
    StageRunner.main("train", args);
  }

  /** Checks the training settings without running anything (the pipeline calls it before its first stage). */
  static void validate(LetheConfig c) {
    Options.model(c);
    Options.train(c);
    c.getBoolean("train.distributed");
    c.positiveInt("train.averaging-frequency");
  }

  static void run(JobContext ctx) {
    if (ModelFiles.fromFile(ctx.config())) {
      throw LetheInputException.of("train: model.source is file (%s): the stages after train take that model;"
          + " there is nothing to train", ctx.config().getString("model.path"));
    }
    Workdir wd = ctx.workdir();
    wd.requireWritable(List.of(ModelFiles.BASE));
    validate(ctx.config());
    wd.requireInput(PrepareJob.TRAIN, "prepare");
    ModelOptions mo = Options.model(ctx.config());
    TrainOptions to = Options.train(ctx.config());
    boolean distributed = ctx.config().getBoolean("train.distributed");
    ctx.describe("read training data");
    ExampleSet train = ExampleTables.readCollected(ctx.spark(), wd.path(PrepareJob.TRAIN).toString(),
        ExampleTables.DATA, PrepareJob.TRAIN, false, mo.numFeatures(), mo.numClasses(),
        wd.path(PrepareJob.TRAIN).toString());
    if (train.size() < PrepareJob.MIN_ROWS) {
      throw LetheInputException.of("%s: %d examples; training needs at least %d (rerun `lethe prepare`)",
          wd.path(PrepareJob.TRAIN), train.size(), PrepareJob.MIN_ROWS);
    }

    MultiLayerNetwork net = Models.build(mo);
    ctx.describe((distributed ? "distributed" : "driver") + " training");
    TrainResult result = distributed
        ? DistributedTraining.fit(ctx, net, train, to, ctx.config().positiveInt("train.averaging-frequency"))
        : Trainer.fit(net, train, to);
    double trainAcc = Predictor.accuracy(Predictor.predict(result.model(), train, 256), train.labels());

    try (Workdir.Staging out = wd.stage("train")) {
      out.writeBytes(ModelFiles.BASE, ModelFiles.toBytes(result.model()));
      out.writeProvenance(ModelFiles.BASE, ctx.provenance("train")
          .input(wd, PrepareJob.TRAIN)
          .put("architecture", mo.architecture().name().toLowerCase(java.util.Locale.ROOT))
          .put("num_params", result.model().numParams())
          .put("fingerprint", ModelStore.fingerprint(result.model()))
          .put("distributed", distributed)
          .put("epochs_run", result.epochsRun())
          .put("best_epoch", result.bestEpoch())
          .put("best_validation_loss", result.bestValidationLoss())
          .put("training_accuracy", trainAcc)
          .put("seconds", result.millis() / 1000.0)
          .toJson());
      out.commit();
    }
    ctx.console().line("train: %s, %d parameters, %d epochs (best %d, validation loss %.4f), training accuracy"
        + " %.2f%%, %.1f s -> %s", mo.architecture().name().toLowerCase(java.util.Locale.ROOT),
        result.model().numParams(), result.epochsRun(), result.bestEpoch(), result.bestValidationLoss(),
        100 * trainAcc, result.millis() / 1000.0, wd.path(ModelFiles.BASE));
  }
}
