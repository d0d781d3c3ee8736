package dev.lethe.repair;

import dev.lethe.Seeds;
import dev.lethe.data.ExampleSet;
import dev.lethe.model.EpochListener;
import dev.lethe.model.TrainOptions;
import dev.lethe.model.TrainResult;
import dev.lethe.model.Trainer;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * "finetune" (Tanno et al. 2022, Section 5, the reference that needs the whole training set): continue training
 * theta_hat on D \ C with {@link Trainer} (Adam, the model's own regularisation, fresh optimiser state, early
 * stopping on a seeded {@code repair.finetune.validation-fraction} split of D \ C). An empty C is a no-op.
 *
 * <p>The training loop is pluggable ({@link Fitter}): on the driver by default, or across executors (the Spark
 * job passes dl4j-spark parameter averaging when {@code repair.finetune.distributed = true}).
 */
public final class Finetune implements RepairMethod {
  public static final String NAME = "finetune";

  /** Trains {@code net} (a copy of theta_hat) on {@code data} and returns the kept model. */
  @FunctionalInterface
  public interface Fitter {
    /** As {@link Trainer#fit(MultiLayerNetwork, ExampleSet, TrainOptions, EpochListener)}; listener may be null. */
    TrainResult fit(MultiLayerNetwork net, ExampleSet data, TrainOptions options, EpochListener listener);
  }

  private final Fitter fitter;
  private final String where;
  private final String name;
  private final java.util.function.Function<RepairInputs, ExampleSet> data;
  private final boolean stepPoints;

  /** Fine-tuning on the driver ({@link Trainer#fit}). */
  public Finetune() {
    this(NAME, Trainer::fit, "driver", RepairInputs::retained, true);
  }

  /**
   * Fine-tuning with another training loop (e.g. distributed), which reports epochs only: the path's points are the
   * epochs' ends, whatever {@code repair.search.finetune.points-per-epoch} says.
   *
   * @param fitter the training loop
   * @param where what it is, for the diagnostics ({@code training})
   */
  public Finetune(Fitter fitter, String where) {
    this(NAME, fitter, where, RepairInputs::retained, false);
  }

  /**
   * Fine-tuning of theta_hat on another training set than D \ C, as the repair {@code name} (its diagnostics and
   * seed stream).
   *
   * @param data the set to fine-tune on, from the inputs
   * @param stepPoints whether {@code fitter} reports minibatch steps ({@link EpochListener#afterStep}), so that the
   *     path has {@code repair.search.finetune.points-per-epoch} points per epoch
   */
  Finetune(String name, Fitter fitter, String where, java.util.function.Function<RepairInputs, ExampleSet> data,
      boolean stepPoints) {
    if (fitter == null || where == null || name == null || data == null) {
      throw new IllegalArgumentException("a name, a fitter, its description and the data must be given");
    }
    this.fitter = fitter;
    this.where = where;
    this.name = name;
    this.data = data;
    this.stepPoints = stepPoints;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public Repaired apply(RepairInputs in) {
    long t0 = System.nanoTime();
    if (in.culprits().size() == 0) {
      return RepairDiagnostics.unchanged(name, in, "empty culprit set", t0);
    }
    ExampleSet trainingSet = data.apply(in);
    RepairOptions.Finetuning o = in.options().finetune();
    TrainResult r = fitter.fit(in.copyOfModel(), trainingSet, new TrainOptions(o.learningRate(), o.batchSize(),
        o.maxEpochs(), o.patience(), o.validationFraction(), Seeds.derive(in.seed(), name)), null);
    MultiLayerNetwork net = r.model();
    Map<String, Object> d = RepairDiagnostics.start(name, in);
    d.put("training", where);
    d.put("trainedOn", trainingSet.size());
    d.put("epochsRun", r.epochsRun());
    d.put("bestEpoch", r.bestEpoch());
    d.put("bestValidationLoss", r.bestValidationLoss());
    return RepairDiagnostics.finish(d, in, net, t0);
  }

  /** One setting per learning rate of {@code repair.search.finetune.learning-rate}; none for an empty C. */
  @Override
  public List<Knobs> grid(RepairInputs in) {
    if (in.culprits().size() == 0) {
      return List.of();
    }
    return Arrays.stream(in.options().search().finetuneLearningRate()).mapToObj(r -> Knobs.of("learning_rate", r))
        .toList();
  }

  /**
   * The path: the model at {@code repair.search.finetune.points-per-epoch} points of every epoch on all of D \ C
   * ({@link TrainingPath}; no validation split: the search judges every point on Fq and B), for at most
   * {@code repair.finetune.max-epochs} epochs. With {@code repair.finetune.distributed = true} the points are the
   * epochs' ends only (parameter averaging exposes no minibatch steps).
   */
  @Override
  public void trace(RepairInputs in, Knobs setting, RepairPath path) {
    RepairOptions.Finetuning o = in.options().finetune();
    fitter.fit(in.copyOfModel(), data.apply(in), new TrainOptions(setting.get("learning_rate"), o.batchSize(),
        o.maxEpochs(), o.patience(), 0.0, Seeds.derive(in.seed(), name)),
        new TrainingPath(setting, path, pointsPerPatienceUnit(in)));
  }

  /** The path's points per epoch. */
  @Override
  public int pointsPerPatienceUnit(RepairInputs in) {
    return stepPoints ? in.options().search().finetunePointsPerEpoch() : 1;
  }
}
