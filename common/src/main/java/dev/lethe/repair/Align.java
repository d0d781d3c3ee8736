package dev.lethe.repair;

import dev.lethe.model.Trainer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * "align": instead of erasing the culprits C, align them with the model and keep them (the CS772 report's
 * energy-based label alignment): relabel each culprit to argmin_y E(x, y) when the energy model (theta_hat, or a
 * model trained from scratch on D \ C: {@link EnergyModel}) prefers that label by at least a margin, keep or drop
 * the others, optionally move the inputs within a small L-infinity ball ({@link LabelAlignment}), then fine-tune
 * theta_hat on D with the aligned culprits in place of the originals, as {@link Finetune} does on D \ C
 * ({@code repair.finetune.*}; the search runs every learning rate of {@code repair.search.finetune.learning-rate}
 * and follows its epochs). The alignment is computed once per run ({@link #prepare}) and shared by every setting.
 * An empty C is a no-op.
 */
public final class Align implements RepairMethod {
  public static final String NAME = "align";

  private final Finetune finetune = new Finetune(NAME, Trainer::fit, "driver",
      in -> alignment(in).alignedTrain(in.train()), true);

  @Override
  public String name() {
    return NAME;
  }

  /** The inputs with the culprits' alignment, computed (and its energy model trained) unless they carry it. */
  @Override
  public RepairInputs prepare(RepairInputs in) {
    return in.alignment() != null ? in : in.withAlignment(LabelAlignment.of(in));
  }

  /**
   * The inputs' alignment. The search runs on {@link #prepare}d inputs (the energy model is trained once, not once per
   * setting), so inputs without one are a programming error.
   */
  static LabelAlignment alignment(RepairInputs in) {
    if (in.alignment() == null) {
      throw new IllegalStateException("align: the repair inputs carry no alignment; call Align.prepare first");
    }
    return in.alignment();
  }

  @Override
  public Repaired apply(RepairInputs unprepared) {
    RepairInputs in = prepare(unprepared);
    Repaired t = finetune.apply(in);
    if (t.noOp()) {
      return t;
    }
    RepairReport.LabelChanges c = in.alignment().changes(false);
    Map<String, Object> d = new LinkedHashMap<>(t.diagnostics());
    d.put("energyModel", c.energyModel());
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
