package dev.lethe.repair;

import dev.lethe.config.LetheConfig;
import dev.lethe.config.Options;
import dev.lethe.influence.EwcOptions;
import java.io.Serializable;
import java.util.Locale;

/**
 * The knobs of every repair (keys under {@code lethe.repair} in conf/reference.conf). Every check throws
 * {@link IllegalArgumentException} naming the config key; {@link #from} turns that into bad input (exit 2).
 *
 * @param ewc {@link EwcDeletion} ({@code repair.ewc-deletion.*})
 * @param newton {@link NewtonRemoval} ({@code repair.newton-removal.*})
 * @param finetune {@link Finetune}, {@link FinetuneQuery}, {@link FinetuneCombined} ({@code repair.finetune.*})
 * @param puma {@link PumaPatching} ({@code repair.puma.*})
 * @param search the operating-point search ({@code repair.search.*})
 * @param align {@link Align} ({@code repair.align.*})
 */
public record RepairOptions(Ewc ewc, Newton newton, Finetuning finetune, Puma puma, Search search,
    AlignOptions align) implements Serializable {

  public RepairOptions {
    if (ewc == null || newton == null || finetune == null || puma == null || search == null || align == null) {
      throw new IllegalArgumentException("repair: every repair's options and the search's must be given");
    }
  }

  /** With the default alignment options. */
  public RepairOptions(Ewc ewc, Newton newton, Finetuning finetune, Puma puma, Search search) {
    this(ewc, newton, finetune, puma, search, AlignOptions.defaults());
  }

  /** With the default PUMA and search options. */
  public RepairOptions(Ewc ewc, Newton newton, Finetuning finetune) {
    this(ewc, newton, finetune, Puma.defaults(), Search.defaults());
  }

  /**
   * EWC deletion, Tanno et al. 2022, Eq. 15, in the scaling of {@link dev.lethe.influence.EwcUpdate}: maximise
   * -mean_{z in C} log p(z | theta) - (1/gamma) (theta - theta_hat)^T diag(F) (theta - theta_hat)
   * - (lambda/2) ||theta - theta_hat||^2.
   *
   * @param gamma step size (> 0), or 0 for 2|C|/N, the value at which the objective is |C|^-1 times the Laplace
   *     posterior of D without C (log p(theta | D) - log p(C | theta), precision N F)
   * @param lambda isotropic pull (>= 0)
   * @param learningRate Adam learning rate (> 0)
   * @param batchSize culprit rows per step (>= 1)
   * @param maxEpochs passes over C (>= 1)
   * @param patience epochs without a better log p(Fq) before stopping (>= 1)
   */
  public record Ewc(double gamma, double lambda, double learningRate, int batchSize, int maxEpochs, int patience)
      implements Serializable {
    public Ewc {
      nonNegative("repair.ewc-deletion.gamma", gamma);
      nonNegative("repair.ewc-deletion.lambda", lambda);
      positive("repair.ewc-deletion.learning-rate", learningRate);
      atLeastOne("repair.ewc-deletion.batch-size", batchSize);
      atLeastOne("repair.ewc-deletion.max-epochs", maxEpochs);
      atLeastOne("repair.ewc-deletion.patience", patience);
    }

    /** gamma with 0 resolved to 2|C|/N. */
    public double effectiveGamma(int culprits, int trainSize) {
      return resolveGamma(gamma, culprits, trainSize);
    }

    /** The {@link EwcOptions} of the update (no internal validation split: early stopping watches Fq). */
    public EwcOptions update(int culprits, int trainSize) {
      return new EwcOptions(effectiveGamma(culprits, trainSize), lambda, learningRate, batchSize, maxEpochs,
          patience, 0.0);
    }
  }

  /**
   * Newton removal, Tanno et al. 2022, Eq. 14 (see {@link NewtonRemoval} for the exact step).
   *
   * @param gamma step size as in {@link Ewc#gamma()} (> 0), or 0 for 2|C|/N (the one-step Newton removal of C with
   *     curvature N F)
   * @param damping added to the curvature, (F + damping I) (>= 0)
   * @param solver "cg" (Jacobi-preconditioned conjugate gradients) or "lissa"
   * @param curvature "full" (empirical Fisher over a seeded sample of D, matrix-free) or "diagonal" (the Fisher
   *     diagonal of the fisher stage)
   * @param curvatureSamples rows of D in the "full" sample (>= 0; 0 = all of D)
   * @param cgMaxIterations CG iteration cap (>= 1)
   * @param cgTolerance CG relative residual target (> 0)
   * @param lissaScale LiSSA scale (at least the largest eigenvalue of every damped minibatch curvature), 0 =
   *     automatic ({@link dev.lethe.math.Lissa#automaticScale})
   * @param lissaDepth LiSSA recursion depth (>= 1)
   * @param lissaRepeats LiSSA recursions averaged (>= 1)
   * @param lissaBatchSize curvature-sample rows per LiSSA step (>= 1)
   */
  public record Newton(double gamma, double damping, String solver, String curvature, int curvatureSamples,
      int cgMaxIterations, double cgTolerance, double lissaScale, int lissaDepth, int lissaRepeats,
      int lissaBatchSize) implements Serializable {
    public static final String CG = "cg";
    public static final String LISSA = "lissa";
    public static final String FULL = "full";
    public static final String DIAGONAL = "diagonal";

    public Newton {
      nonNegative("repair.newton-removal.gamma", gamma);
      nonNegative("repair.newton-removal.damping", damping);
      solver = solver == null ? "" : solver.trim().toLowerCase(Locale.ROOT);
      if (!CG.equals(solver) && !LISSA.equals(solver)) {
        throw new IllegalArgumentException("repair.newton-removal.solver must be 'cg' or 'lissa', got '" + solver
            + "'");
      }
      curvature = curvature == null ? "" : curvature.trim().toLowerCase(Locale.ROOT);
      if (!FULL.equals(curvature) && !DIAGONAL.equals(curvature)) {
        throw new IllegalArgumentException("repair.newton-removal.curvature must be 'full' or 'diagonal', got '"
            + curvature + "'");
      }
      if (curvatureSamples < 0) {
        throw new IllegalArgumentException("repair.newton-removal.curvature-samples must be >= 0, got "
            + curvatureSamples);
      }
      atLeastOne("repair.newton-removal.cg.max-iterations", cgMaxIterations);
      positive("repair.newton-removal.cg.tolerance", cgTolerance);
      nonNegative("repair.newton-removal.lissa.scale", lissaScale);
      atLeastOne("repair.newton-removal.lissa.depth", lissaDepth);
      atLeastOne("repair.newton-removal.lissa.repeats", lissaRepeats);
      atLeastOne("repair.newton-removal.lissa.batch-size", lissaBatchSize);
    }

    /** gamma with 0 resolved to 2|C|/N. */
    public double effectiveGamma(int culprits, int trainSize) {
      return resolveGamma(gamma, culprits, trainSize);
    }

    public Newton withSolver(String s) {
      return new Newton(gamma, damping, s, curvature, curvatureSamples, cgMaxIterations, cgTolerance, lissaScale,
          lissaDepth, lissaRepeats, lissaBatchSize);
    }

    public Newton withCurvature(String c, int samples) {
      return new Newton(gamma, damping, solver, c, samples, cgMaxIterations, cgTolerance, lissaScale, lissaDepth,
          lissaRepeats, lissaBatchSize);
    }
  }

  /**
   * Fine-tuning baselines.
   *
   * @param learningRate Adam learning rate (> 0)
   * @param batchSize rows per step (>= 1)
   * @param maxEpochs epoch cap (>= 1)
   * @param patience epochs without a better validation loss before stopping (>= 1)
   * @param validationFraction share of the fine-tuning data held out for early stopping, in [0, 0.5]
   * @param l2 pull (l2/2) ||theta - theta_hat||^2 of finetune-fq and finetune-combined (>= 0)
   */
  public record Finetuning(double learningRate, int batchSize, int maxEpochs, int patience,
      double validationFraction, double l2) implements Serializable {
    public Finetuning {
      positive("repair.finetune.learning-rate", learningRate);
      atLeastOne("repair.finetune.batch-size", batchSize);
      atLeastOne("repair.finetune.max-epochs", maxEpochs);
      atLeastOne("repair.finetune.patience", patience);
      if (!(validationFraction >= 0 && validationFraction <= 0.5)) {
        throw new IllegalArgumentException("repair.finetune.validation-fraction must be in [0, 0.5], got "
            + validationFraction);
      }
      nonNegative("repair.finetune.l2", l2);
    }
  }

  /**
   * PUMA model patching ({@link PumaPatching}): remove C's influence and compensate by upweighting the retained
   * examples, with weights lambda* = argmin_{lambda >= 0} ||sum_j lambda_j psi_j - sum_{k in C} psi_k||^2 + ridge
   * ||lambda||^2, psi the data value for the loss on B. The inverse curvature is newton-removal's (curvature, damping,
   * solver and their settings).
   *
   * @param eta the step size of a single patch ({@link PumaPatching#apply}; > 0), on the scale of newton-removal's
   *     gamma
   * @param ridge Omega's weight (> 0)
   * @param upweight {@code retained}: D_up = D \ C; {@code none}: no compensation (lambda = 0, the Newton removal of
   *     C)
   */
  public record Puma(double eta, double ridge, String upweight) implements Serializable {
    public static final String RETAINED = "retained";
    public static final String NONE = "none";

    public Puma {
      positive("repair.puma.eta", eta);
      positive("repair.puma.ridge", ridge);
      upweight = upweight == null ? "" : upweight.trim().toLowerCase(Locale.ROOT);
      if (!RETAINED.equals(upweight) && !NONE.equals(upweight)) {
        throw new IllegalArgumentException("repair.puma.upweight must be 'retained' or 'none', got '" + upweight
            + "'");
      }
    }

    /** The defaults of conf/reference.conf. */
    public static Puma defaults() {
      return RepairOptions.defaults().puma();
    }
  }

  /**
   * The operating-point search ({@link OperatingPointSearch}): each repair runs every value of its grid as an
   * independent setting and follows the path of each (epochs, or step sizes in increasing order).
   *
   * @param patience points of a path without progress within the guardrail before the path stops (>= 1); on a
   *     training path, epochs' worth of points ({@link RepairMethod#pointsPerPatienceUnit})
   * @param ewcGamma ewc-deletion's gamma values (each > 0)
   * @param ewcLearningRate ewc-deletion's Adam learning rates (each > 0); one setting per (gamma, learning rate),
   *     whose path is its epochs
   * @param newtonGamma newton-removal's step sizes gamma (each > 0), one path in increasing order
   * @param finetuneLearningRate the Adam learning rates of finetune, finetune-fq and finetune-combined (each > 0)
   * @param finetuneL2 finetune-fq's and finetune-combined's L2 pulls (each >= 0); their settings are every
   *     (L2 pull, learning rate), finetune's every learning rate, and the path of each is its epochs
   * @param pumaEta puma's step sizes eta (each > 0), one path in increasing order
   * @param stepRefinements newton-removal's and puma's bisection steps after their step-size grid ({@link StepSizePath};
   *     >= 0, 0 = the grid only)
   * @param finetunePointsPerEpoch points of a fine-tuning path per epoch of training (>= 1; finetune, finetune-fq,
   *     finetune-combined and align): the model after every {@code 1/finetunePointsPerEpoch} of an epoch's
   *     minibatch steps ({@link TrainingPath}); 1 = after every epoch only
   */
  public record Search(int patience, double[] ewcGamma, double[] ewcLearningRate, double[] newtonGamma,
      double[] finetuneLearningRate, double[] finetuneL2, double[] pumaEta, int stepRefinements,
      int finetunePointsPerEpoch) implements Serializable {
    public Search {
      nonNegative("repair.search.step-refinements", stepRefinements);
      atLeastOne("repair.search.finetune.points-per-epoch", finetunePointsPerEpoch);
      atLeastOne("repair.search.patience", patience);
      ewcGamma = grid("repair.search.ewc-deletion.gamma", ewcGamma, false);
      ewcLearningRate = grid("repair.search.ewc-deletion.learning-rate", ewcLearningRate, false);
      newtonGamma = grid("repair.search.newton-removal.gamma", newtonGamma, false);
      finetuneLearningRate = grid("repair.search.finetune.learning-rate", finetuneLearningRate, false);
      finetuneL2 = grid("repair.search.finetune.l2", finetuneL2, true);
      pumaEta = grid("repair.search.puma.eta", pumaEta, false);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Search s && patience == s.patience && java.util.Arrays.equals(ewcGamma, s.ewcGamma)
          && java.util.Arrays.equals(ewcLearningRate, s.ewcLearningRate)
          && java.util.Arrays.equals(newtonGamma, s.newtonGamma)
          && java.util.Arrays.equals(finetuneLearningRate, s.finetuneLearningRate)
          && java.util.Arrays.equals(finetuneL2, s.finetuneL2) && java.util.Arrays.equals(pumaEta, s.pumaEta)
          && stepRefinements == s.stepRefinements && finetunePointsPerEpoch == s.finetunePointsPerEpoch;
    }

    @Override
    public int hashCode() {
      return java.util.Objects.hash(patience, java.util.Arrays.hashCode(ewcGamma),
          java.util.Arrays.hashCode(ewcLearningRate),
          java.util.Arrays.hashCode(newtonGamma), java.util.Arrays.hashCode(finetuneLearningRate),
          java.util.Arrays.hashCode(finetuneL2), java.util.Arrays.hashCode(pumaEta), stepRefinements,
          finetunePointsPerEpoch);
    }

    @Override
    public String toString() {
      return "Search[patience=" + patience + ", ewcGamma=" + java.util.Arrays.toString(ewcGamma) + ", ewcLearningRate="
          + java.util.Arrays.toString(ewcLearningRate) + ", newtonGamma="
          + java.util.Arrays.toString(newtonGamma) + ", finetuneLearningRate="
          + java.util.Arrays.toString(finetuneLearningRate) + ", finetuneL2=" + java.util.Arrays.toString(finetuneL2)
          + ", pumaEta=" + java.util.Arrays.toString(pumaEta) + ", stepRefinements=" + stepRefinements
          + ", finetunePointsPerEpoch=" + finetunePointsPerEpoch
          + "]";
    }

    /** The defaults of conf/reference.conf. */
    public static Search defaults() {
      return RepairOptions.defaults().search();
    }

    /** A copy of a non-empty grid of finite values, each > 0 (or >= 0), in increasing order without repeats. */
    private static double[] grid(String key, double[] values, boolean zeroAllowed) {
      if (values == null || values.length == 0) {
        throw new IllegalArgumentException(key + " must list at least one value");
      }
      for (double v : values) {
        if (zeroAllowed) {
          nonNegative(key, v);
        } else {
          positive(key, v);
        }
      }
      return java.util.Arrays.stream(values).sorted().distinct().toArray();
    }
  }

  /** The defaults of conf/reference.conf. */
  public static RepairOptions defaults() {
    return from(LetheConfig.defaults());
  }

  /** From the {@code repair.*} keys; a bad value is a {@link dev.lethe.LetheInputException} naming its key. */
  public static RepairOptions from(LetheConfig c) {
    String e = "repair.ewc-deletion.";
    String n = "repair.newton-removal.";
    String f = "repair.finetune.";
    String s = "repair.search.";
    return Options.valid(() -> new RepairOptions(
        new Ewc(c.getDouble(e + "gamma"), c.getDouble(e + "lambda"), c.getDouble(e + "learning-rate"),
            c.getInt(e + "batch-size"), c.getInt(e + "max-epochs"), c.getInt(e + "patience")),
        new Newton(c.getDouble(n + "gamma"), c.getDouble(n + "damping"), c.getString(n + "solver"),
            c.getString(n + "curvature"), c.getInt(n + "curvature-samples"), c.getInt(n + "cg.max-iterations"),
            c.getDouble(n + "cg.tolerance"), c.getDouble(n + "lissa.scale"), c.getInt(n + "lissa.depth"),
            c.getInt(n + "lissa.repeats"), c.getInt(n + "lissa.batch-size")),
        new Finetuning(c.getDouble(f + "learning-rate"), c.getInt(f + "batch-size"), c.getInt(f + "max-epochs"),
            c.getInt(f + "patience"), c.getDouble(f + "validation-fraction"), c.getDouble(f + "l2")),
        new Puma(c.getDouble("repair.puma.eta"), c.getDouble("repair.puma.ridge"), c.getString("repair.puma.upweight")),
        new Search(c.getInt(s + "patience"), c.getDoubleArray(s + "ewc-deletion.gamma"),
            c.getDoubleArray(s + "ewc-deletion.learning-rate"), c.getDoubleArray(s + "newton-removal.gamma"),
            c.getDoubleArray(s + "finetune.learning-rate"),
            c.getDoubleArray(s + "finetune.l2"), c.getDoubleArray(s + "puma.eta"),
            c.getInt(s + "step-refinements"), c.getInt(s + "finetune.points-per-epoch")),
        AlignOptions.from(c)));
  }

  public RepairOptions withEwc(Ewc x) {
    return new RepairOptions(x, newton, finetune, puma, search, align);
  }

  public RepairOptions withNewton(Newton x) {
    return new RepairOptions(ewc, x, finetune, puma, search, align);
  }

  public RepairOptions withFinetune(Finetuning x) {
    return new RepairOptions(ewc, newton, x, puma, search, align);
  }

  public RepairOptions withPuma(Puma x) {
    return new RepairOptions(ewc, newton, finetune, x, search, align);
  }

  public RepairOptions withSearch(Search x) {
    return new RepairOptions(ewc, newton, finetune, puma, x, align);
  }

  public RepairOptions withAlign(AlignOptions x) {
    return new RepairOptions(ewc, newton, finetune, puma, search, x);
  }

  /** gamma, or 2|C|/N (exact removal of C under the Laplace approximation, precision N F) when gamma is 0. */
  static double resolveGamma(double gamma, int culprits, int trainSize) {
    return gamma > 0 ? gamma : 2.0 * culprits / trainSize;
  }

  private static void positive(String key, double v) {
    if (!(v > 0) || Double.isInfinite(v)) {
      throw new IllegalArgumentException(key + " must be finite and > 0, got " + v);
    }
  }

  private static void nonNegative(String key, double v) {
    if (!(v >= 0) || Double.isInfinite(v)) {
      throw new IllegalArgumentException(key + " must be finite and >= 0, got " + v);
    }
  }

  private static void atLeastOne(String key, int v) {
    if (v < 1) {
      throw new IllegalArgumentException(key + " must be >= 1, got " + v);
    }
  }
}
