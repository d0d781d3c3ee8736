package dev.lethe.treatment;

/** A way of repairing theta_hat given the culprits C (Tanno et al. 2022, Section 4); see the package docs. */
public interface TreatmentMethod {
  /** The configuration name ({@code lethe.repair.method}). */
  String name();

  /**
   * Repairs {@code in.model()}, which is not modified. Deterministic: same inputs and seed give identical
   * parameters.
   */
  Treated apply(TreatmentInputs in);
}
