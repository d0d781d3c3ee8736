package dev.lethe.repair;

import dev.lethe.Seeds;
import dev.lethe.data.Corruption;
import dev.lethe.data.ExampleSet;
import dev.lethe.influence.EwcOptions;
import dev.lethe.influence.EwcUpdate;
import dev.lethe.math.DiagonalFisher;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * Fine-tuning with an L2 pull towards theta_hat: maximise mean_{z in target} log p(z | theta) - (l2/2)
 * ||theta - theta_hat||^2, i.e. {@link EwcUpdate} LEARN with a zero Fisher and lambda = l2 (Adam, early stopping
 * on a seeded {@code repair.finetune.validation-fraction} split of the target, theta_hat itself a candidate). Shared
 * by {@link FinetuneQuery} and {@link FinetuneCombined}.
 */
final class L2Finetuning {
  private L2Finetuning() {}

  static Repaired run(String method, RepairInputs in, ExampleSet target, long t0) {
    RepairOptions.Finetuning o = in.options().finetune();
    DiagonalFisher zero = zeroFisher(in);
    // gamma only scales the (zero) Fisher term
    EwcOptions eo = new EwcOptions(1.0, o.l2(), o.learningRate(), o.batchSize(), o.maxEpochs(), o.patience(),
        o.validationFraction());
    EwcUpdate.Result r = EwcUpdate.run(in.model(), zero, in.trainSize(), target, EwcUpdate.Objective.LEARN, eo,
        Seeds.derive(in.seed(), method));
    Map<String, Object> d = RepairDiagnostics.start(method, in);
    d.put("trainedOn", target.size());
    d.put("l2", o.l2());
    RepairDiagnostics.keptEpoch(d, method, r.epochsRun(), r.bestEpoch());
    d.put("bestValidationObjective", r.bestValidationObjective());
    MultiLayerNetwork out = in.modelWithParams(r.model().params());
    return RepairDiagnostics.finish(d, in, out, t0);
  }

  /** A zero Fisher diagonal: the EWC update then optimises the data term and the L2 pull alone. */
  private static DiagonalFisher zeroFisher(RepairInputs in) {
    return new DiagonalFisher(new double[Math.toIntExact(in.model().numParams())], in.trainSize(), "");
  }

  /** One setting per (L2 pull, learning rate) of {@code repair.search.finetune.*}. */
  static List<Knobs> grid(RepairInputs in) {
    RepairOptions.Search s = in.options().search();
    return Arrays.stream(s.finetuneL2()).boxed().flatMap(l -> Arrays.stream(s.finetuneLearningRate())
        .mapToObj(r -> Knobs.of("l2", l).with("learning_rate", r))).toList();
  }

  /**
   * The path: the model at {@code repair.search.finetune.points-per-epoch} points of every epoch on all of
   * {@code target} ({@link TrainingPath}; no validation split: the search judges every point on Fq and B), for at
   * most {@code repair.finetune.max-epochs} epochs.
   */
  static void trace(String method, RepairInputs in, ExampleSet target, Knobs setting, RepairPath path) {
    RepairOptions.Finetuning o = in.options().finetune();
    DiagonalFisher zero = zeroFisher(in);
    EwcOptions eo = new EwcOptions(1.0, setting.get("l2"), setting.get("learning_rate"), o.batchSize(),
        o.maxEpochs(), o.patience(), 0.0);
    EwcUpdate.run(in.model(), zero, in.trainSize(), target, EwcUpdate.Objective.LEARN, eo,
        Seeds.derive(in.seed(), method),
        new TrainingPath(setting, path, in.options().search().finetunePointsPerEpoch()));
  }

  /** a followed by b, with positional ids (training sets and failure sets may reuse ids; ids are not trained on). */
  static ExampleSet join(ExampleSet a, ExampleSet b) {
    int n = a.size() + b.size();
    long[] ids = new long[n];
    float[][] f = new float[n][];
    int[] y = new int[n];
    int[] orig = new int[n];
    Corruption[] c = new Corruption[n];
    for (int i = 0; i < n; i++) {
      ExampleSet s = i < a.size() ? a : b;
      int r = i < a.size() ? i : i - a.size();
      ids[i] = i;
      f[i] = s.features(r);
      y[i] = s.label(r);
      orig[i] = s.originalLabel(r);
      c[i] = s.corruption(r);
    }
    return new ExampleSet(ids, f, y, orig, c, a.numFeatures());
  }
}
