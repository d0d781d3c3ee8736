package dev.lethe.repair;

import dev.lethe.model.Trainer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * "align": instead of erasing the culprits C, align them with the model and keep them (the CS772 report's
 * energy-based label alignment): relabel each culprit to argmin_y E(x, y) when the model prefers that label by at
 * least a margin, keep or drop the others, optionally move the inputs within a small L-infinity ball
 * ({@link LabelAlignment}), then fine-tune theta_hat on D with the aligned culprits in place of the
 * originals, as {@link Finetune} does on D \ C ({@code repair.finetune.*}; the search runs every learning rate of
 * {@code repair.search.finetune.learning-rate} and follows its epochs). An empty C is a no-op.
 */
public final class Align implements RepairMethod {
  public static final String NAME = "align";

  private final Finetune finetune = new Finetune(NAME, Trainer::fit, "driver",
      in -> LabelAlignment.of(in).alignedTrain(in.train()), true);

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Repaired apply(RepairInputs in) {
    Repaired t = finetune.apply(in);
    if (t.noOp()) {
      return t;
    }
    RepairReport.LabelChanges c = LabelAlignment.of(in).changes(false);
    Map<String, Object> d = new LinkedHashMap<>(t.diagnostics());
    d.put("labelsChanged", c.changed());
    d.put("labelsRestoredToOriginal", c.restoredOriginal());
    d.put("inputsMoved", c.inputsMoved());
    d.put("labelsHeld", c.held());
    d.put("culpritsDropped", c.dropped());
    return new Repaired(t.model(), d, t.millis());
  }

  @Override
  public List<Knobs> grid(RepairInputs in) {
    return finetune.grid(in);
  }

  @Override
  public void trace(RepairInputs in, Knobs setting, RepairPath path) {
    finetune.trace(in, setting, path);
  }

  @Override
  public int pointsPerPatienceUnit(RepairInputs in) {
    return finetune.pointsPerPatienceUnit(in);
  }
}
