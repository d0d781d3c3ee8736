/**
 * Repair: erase the influence of the culprits C (training examples blamed for the failures Fq by
 * {@link dev.lethe.influence}) from theta_hat, Tanno et al. 2022, "Repairing Neural Networks by Leaving the Right
 * Past Behind", Section 4 and App. B.4. Engine-free; a {@link dev.lethe.repair.RepairMethod} takes
 * {@link dev.lethe.repair.RepairInputs} and returns a new model ({@link dev.lethe.repair.Repaired}).
 *
 * <ul>
 *   <li>{@link dev.lethe.repair.Selection}: which ranked examples form C (positive scores, negative data
 *       values, top-k, top fraction). An empty C makes the erasing repairs no-ops returning theta_hat ({@code noOp = true}).
 *   <li>{@link dev.lethe.repair.EwcDeletion} ("ewc-deletion", Eq. 15) and
 *       {@link dev.lethe.repair.NewtonRemoval} ("newton-removal", Eq. 14): the paper's methods.
 *   <li>{@link dev.lethe.repair.Finetune} ("finetune", on D \ C), {@link dev.lethe.repair.FinetuneQuery}
 *       ("finetune-fq") and {@link dev.lethe.repair.FinetuneCombined} ("finetune-combined"): baselines.
 *   <li>{@link dev.lethe.repair.Align} ("align"): relabel C to its lowest-energy labels
 *       ({@link dev.lethe.repair.LabelAlignment}) under theta_hat or a model trained from scratch on D \ C
 *       ({@link dev.lethe.repair.EnergyModel}) and fine-tune on D with the aligned examples kept.
 *   <li>{@link dev.lethe.repair.RepairEvaluation}: accuracies on Fq, Fh, T \ F and T, and the guardrail on the
 *       T \ F drop.
 * </ul>
 */
package dev.lethe.repair;
