package dev.lethe.repair;

import java.util.List;

/**
 * "finetune-fq" (baseline, Tanno et al. 2022, Section 5): fine-tune theta_hat on the failures Fq alone under an L2
 * pull, maximise mean_{z in Fq} log p(z | theta) - (l2/2) ||theta - theta_hat||^2 ({@link L2Finetuning}). Does not
 * use C (an empty C does not make it a no-op); an empty Fq does.
 */
public final class FinetuneQuery implements RepairMethod {
  public static final String NAME = "finetune-fq";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Repaired apply(RepairInputs in) {
    long t0 = System.nanoTime();
    if (in.query().size() == 0) {
      return RepairDiagnostics.unchanged(NAME, in, "empty failure set Fq", t0);
    }
    return L2Finetuning.run(NAME, in, in.query(), t0);
  }

  @Override
  public List<Knobs> grid(RepairInputs in) {
    return in.query().size() == 0 ? List.of() : L2Finetuning.grid(in);
  }

  @Override
  public void trace(RepairInputs in, Knobs setting, RepairPath path) {
    L2Finetuning.trace(NAME, in, in.query(), setting, path);
  }

  /** The path's points per epoch ({@code repair.search.finetune.points-per-epoch}). */
  @Override
  public int pointsPerPatienceUnit(RepairInputs in) {
    return in.options().search().finetunePointsPerEpoch();
  }
}
