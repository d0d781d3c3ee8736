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
import dev.lethe.model.TrainingCheckpoints;
import dev.lethe.spark.io.ExampleTables;
import dev.lethe.spark.io.ModelFiles;
import dev.lethe.spark.io.Workdir;
import dev.lethe.spark.io.WorkdirLayout;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * Stage {@code train}: fits the configured architecture (the paper's CNN by default) on data/train.parquet with
 * Adam and early stopping on a seeded validation split, on the driver or with dl4j-spark parameter averaging
 * ({@code train.distributed = true}), and writes model/base.zip.
 */
public final class TrainJob implements StageJob {
  public static void main(String[] args) {
    StageRunner.main(Stage.TRAIN, args);
  }

  @Override
  public List<Input> inputs(LetheConfig c) {
    return List.of(new Input(WorkdirLayout.TRAIN, "prepare"));
  }

  @Override
  public List<String> outputs(LetheConfig c) {
    return List.of(WorkdirLayout.BASE_MODEL);
  }

  @Override
  public void validate(LetheConfig c, Configuration hadoop) {
    if (ModelFiles.fromFile(c)) {
      throw LetheInputException.of("train: model.source is file (%s): the stages after train take that model;"
          + " there is nothing to train", c.getString("model.path"));
    }
    Options.model(c);
    Options.train(c);
    c.getBoolean("train.distributed");
    c.positiveInt("train.averaging-frequency");
    c.nonNegativeInt("train.checkpoints");
  }

  @Override
  public void run(JobContext ctx) {
    Workdir wd = ctx.workdir();
    ModelOptions mo = Options.model(ctx.config());
    TrainOptions to = Options.train(ctx.config());
    boolean distributed = ctx.config().getBoolean("train.distributed");
    ctx.describe("read training data");
    ExampleSet train = ExampleTables.readCollected(ctx.spark(), wd.path(WorkdirLayout.TRAIN).toString(),
        ExampleTables.DATA, WorkdirLayout.TRAIN, false, mo.numFeatures(), mo.numClasses(),
        wd.path(WorkdirLayout.TRAIN).toString());
    if (train.size() < ExampleTables.MIN_SPLIT_ROWS) {
      throw LetheInputException.of("%s: %d examples; training needs at least %d (rerun `lethe prepare`)",
          wd.path(WorkdirLayout.TRAIN), train.size(), ExampleTables.MIN_SPLIT_ROWS);
    }

    MultiLayerNetwork net = Models.build(mo);
    ctx.describe((distributed ? "distributed" : "driver") + " training");
    // driver training keeps train.checkpoints parameter checkpoints for TracIn (distributed training keeps none)
    int keep = distributed ? 0 : ctx.config().nonNegativeInt("train.checkpoints");
    TrainingCheckpoints.Recorder recorder = keep > 0 ? new TrainingCheckpoints.Recorder() : null;
    TrainResult result = distributed
        ? DistributedTraining.fit(ctx, net, train, to, ctx.config().positiveInt("train.averaging-frequency"))
        : recorder != null ? Trainer.fitObserved(net, train, to, recorder) : Trainer.fit(net, train, to);
    TrainingCheckpoints checkpoints = recorder == null ? null : recorder.select(result, keep, to.learningRate());
    double trainAcc = Predictor.accuracy(Predictor.predict(result.model(), train, 256), train.labels());

    // model/checkpoints.bin belongs to model/base.zip: one left without it (a train stage killed in its commit) is
    // replaced, and one of an earlier model is removed when this run keeps none
    if (checkpoints != null && !wd.overwrite() && wd.exists(WorkdirLayout.CHECKPOINTS)) {
      try {
        wd.fileSystem().delete(wd.path(WorkdirLayout.CHECKPOINTS), false);
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException("cannot replace " + wd.path(WorkdirLayout.CHECKPOINTS), e);
      }
    }
    try (Workdir.Staging out = wd.stage("train")) {
      if (checkpoints == null && wd.exists(WorkdirLayout.CHECKPOINTS)) {
        out.remove(WorkdirLayout.CHECKPOINTS);
      }
      out.writeBytes(WorkdirLayout.BASE_MODEL, ModelFiles.toBytes(result.model()));
      out.writeProvenance(WorkdirLayout.BASE_MODEL, ctx.provenance("train")
          .input(wd, WorkdirLayout.TRAIN)
          .put("architecture", mo.architecture().name().toLowerCase(java.util.Locale.ROOT))
          .put("num_params", result.model().numParams())
          .put("fingerprint", ModelStore.fingerprint(result.model()))
          .put("distributed", distributed)
          .put("epochs_run", result.epochsRun())
          .put("best_epoch", result.bestEpoch())
          .put("best_validation_loss", result.bestValidationLoss())
          .put("training_accuracy", trainAcc)
          .put("seconds", result.millis() / 1000.0)
          .put("checkpoint_epochs", checkpoints == null ? List.of()
              : checkpoints.checkpoints().stream().map(TrainingCheckpoints.Checkpoint::epoch).toList())
          .toJson());
      if (checkpoints != null) {
        out.writeBytes(WorkdirLayout.CHECKPOINTS, checkpoints.toBytes());
        out.writeProvenance(WorkdirLayout.CHECKPOINTS, ctx.provenance("train").input(wd, WorkdirLayout.TRAIN)
            .put("fingerprint", checkpoints.modelFingerprint()).put("learning_rate", to.learningRate())
            .put("checkpoint_epochs", checkpoints.checkpoints().stream().map(TrainingCheckpoints.Checkpoint::epoch)
                .toList()).toJson());
      }
      out.commit();
    }
    ctx.console().line("train: %s, %d parameters, %d epochs (best %d, validation loss %.4f), training accuracy"
        + " %.2f%%, %.1f s -> %s", mo.architecture().name().toLowerCase(java.util.Locale.ROOT),
        result.model().numParams(), result.epochsRun(), result.bestEpoch(), result.bestValidationLoss(),
        100 * trainAcc, result.millis() / 1000.0, wd.path(WorkdirLayout.BASE_MODEL));
  }
}
