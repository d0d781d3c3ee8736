package dev.lethe.repair;

import java.util.List;

/**
 * "finetune-combined" (baseline, Tanno et al. 2022, Section 5): fine-tune theta_hat on (D \ C) together with Fq
 * under an L2 pull, maximise mean_{z in (D \ C) + Fq} log p(z | theta) - (l2/2) ||theta - theta_hat||^2
 * ({@link L2Finetuning}). An empty C does not make it a no-op (it then fine-tunes on D + Fq).
 */
public final class FinetuneCombined implements RepairMethod {
  public static final String NAME = "finetune-combined";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Repaired apply(RepairInputs in) {
    long t0 = System.nanoTime();
    return L2Finetuning.run(NAME, in, L2Finetuning.join(in.retained(), in.query()), t0);
  }

  @Override
  public List<Knobs> grid(RepairInputs in) {
    return L2Finetuning.grid(in);
  }

  @Override
  public void trace(RepairInputs in, Knobs setting, RepairPath path) {
    L2Finetuning.trace(NAME, in, L2Finetuning.join(in.retained(), in.query()), setting, path);
  }

  /** The path's points per epoch ({@code repair.search.finetune.points-per-epoch}). */
  @Override
  public int pointsPerPatienceUnit(RepairInputs in) {
    return in.options().search().finetunePointsPerEpoch();
  }
}
