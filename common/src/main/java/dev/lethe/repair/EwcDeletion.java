package dev.lethe.repair;

import dev.lethe.LetheInputException;
import dev.lethe.Seeds;
import dev.lethe.influence.EwcUpdate;
import dev.lethe.math.NetworkBytes;
import dev.lethe.influence.EwcOptions;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * "ewc-deletion" (Tanno et al. 2022, Eq. 15): erase the culprits C from theta_hat by the EWC-regularised
 * Bayesian deletion p(theta | D \ C) ~ p(theta | D) / p(C | theta), with the Laplace approximation of p(theta | D)
 * (precision N F, F the Fisher diagonal):
 *
 * <pre>
 *   theta = argmax  -mean_{z in C} log p(z | theta) - (1/gamma) (theta - theta_hat)^T diag(F) (theta - theta_hat)
 *                   - (lambda/2) ||theta - theta_hat||^2
 * </pre>
 *
 * <p>— {@link EwcUpdate} with {@link EwcUpdate.Objective#UNLEARN} on C (same scaling as EWC-influence: s = 2 /
 * (gamma N) in the paper's notation). gamma = 2|C|/N (config gamma = 0) makes this exactly the Laplace posterior
 * of D \ C divided by |C|; smaller gamma erases more gently.
 *
 * <p>Early stopping follows the paper: on the failures, not on C. Every row of C is trained on, and after every
 * epoch the criterion is mean log p(Fq | theta) (Fq is never trained on, so all of it serves as validation; the
 * separate holdout Fh measures generalisation). theta_hat itself (epoch 0) is a candidate, so if erasing C never
 * helps Fq the result equals theta_hat (diagnostics bestEpoch = 0). Monitoring C's own objective instead would
 * never stop early (unlearning raises it monotonically) and says nothing about the repair; that fallback is used
 * only when Fq is empty. An empty C is a no-op.
 */
public final class EwcDeletion implements RepairMethod {
  public static final String NAME = "ewc-deletion";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Repaired apply(RepairInputs in) {
    long t0 = System.nanoTime();
    if (in.culprits().size() == 0) {
      return RepairDiagnostics.unchanged(NAME, in, "empty culprit set", t0);
    }
    requireFisher(in);
    RepairOptions.Ewc o = in.options().ewc();
    int c = in.culprits().size();
    int n = in.trainSize();
    long seed = Seeds.derive(in.seed(), NAME);
    boolean onQuery = in.query().size() > 0;
    EwcUpdate.Result r = onQuery
        ? EwcUpdate.run(in.model(), in.fisher(), n, in.culprits(), EwcUpdate.Objective.UNLEARN, in.query(),
            EwcUpdate.Objective.LEARN, o.update(c, n), seed)
        : EwcUpdate.run(in.model(), in.fisher(), n, in.culprits(), EwcUpdate.Objective.UNLEARN, o.update(c, n),
            seed);
    Map<String, Object> d = RepairDiagnostics.start(NAME, in);
    d.put("gamma", o.effectiveGamma(c, n));
    d.put("lambda", o.lambda());
    d.put("earlyStopping", onQuery ? "mean log p(Fq)" : "EWC objective on C (Fq empty)");
    RepairDiagnostics.keptEpoch(d, NAME, r.epochsRun(), r.bestEpoch());
    d.put("bestValidationObjective", r.bestValidationObjective());
    MultiLayerNetwork out = in.modelWithParams(r.model().params());
    return RepairDiagnostics.finish(d, in, out, t0);
  }

  /** One setting per (gamma, learning rate) of {@code repair.search.ewc-deletion.*}; none for an empty C. */
  @Override
  public List<Knobs> grid(RepairInputs in) {
    if (in.culprits().size() == 0) {
      return List.of();
    }
    RepairOptions.Search s = in.options().search();
    return Arrays.stream(s.ewcGamma()).boxed().flatMap(g -> Arrays.stream(s.ewcLearningRate())
        .mapToObj(r -> Knobs.of("gamma", g).with("learning_rate", r))).toList();
  }

  /** The path: the model after each epoch of unlearning C (at most {@code repair.ewc-deletion.max-epochs}). */
  @Override
  public void trace(RepairInputs in, Knobs setting, RepairPath path) {
    requireFisher(in);
    RepairOptions.Ewc o = in.options().ewc();
    EwcOptions eo = new EwcOptions(setting.get("gamma"), o.lambda(), setting.get("learning_rate"), o.batchSize(),
        o.maxEpochs(), o.patience(), 0.0);
    EwcUpdate.run(in.model(), in.fisher(), in.trainSize(), in.culprits(), EwcUpdate.Objective.UNLEARN, eo,
        Seeds.derive(in.seed(), NAME), (epoch, net) -> path.offer(setting.with("epoch", epoch), net));
  }

  private static void requireFisher(RepairInputs in) {
    if (in.fisher() == null) {
      throw LetheInputException.of("%s needs the Fisher diagonal of the model (run the fisher stage first)", NAME);
    }
    in.fisher().requireMatches(in.model().numParams(), NetworkBytes.fingerprint(in.model()), "Fisher diagonal");
  }
}
