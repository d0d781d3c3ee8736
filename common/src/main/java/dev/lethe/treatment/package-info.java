/**
 * Repair ("treatment"): erase the influence of the culprits C (training examples blamed for the failures Fq by
 * {@link dev.lethe.influence}) from theta_hat, Tanno et al. 2022, "Repairing Neural Networks by Leaving the Right
 * Past Behind", Section 4 and App. B.4. Engine-free; a {@link dev.lethe.treatment.TreatmentMethod} takes
 * {@link dev.lethe.treatment.TreatmentInputs} and returns a new model ({@link dev.lethe.treatment.Treated}).
 *
 * <ul>
 *   <li>{@link dev.lethe.treatment.Selection}: which ranked examples form C (positive scores, negative data
 *       values, top-k, top fraction). An empty C makes the erasing treatments no-ops returning theta_hat ({@code noOp = true}).
 *   <li>{@link dev.lethe.treatment.EwcDeletion} ("ewc-deletion", Eq. 15) and
 *       {@link dev.lethe.treatment.NewtonRemoval} ("newton-removal", Eq. 14): the paper's methods.
 *   <li>{@link dev.lethe.treatment.Finetune} ("finetune", on D \ C), {@link dev.lethe.treatment.FinetuneQuery}
 *       ("finetune-fq") and {@link dev.lethe.treatment.FinetuneCombined} ("finetune-combined"): baselines.
 *   <li>{@link dev.lethe.treatment.Align} ("align"): relabel C to its lowest-energy labels
 *       ({@link dev.lethe.treatment.LabelAlignment}) and fine-tune on D with the aligned examples kept.
 *   <li>{@link dev.lethe.treatment.RepairEvaluation}: accuracies on Fq, Fh, T \ F and T, and the guardrail on the
 *       T \ F drop.
 * </ul>
 */
package dev.lethe.treatment;
