package dev.lethe.influence;

/**
 * Options of the EWC-regularised update (Tanno et al. 2022, Eq. 10); see {@link EwcUpdate}.
 *
 * @param gamma step size of the Bayesian update: the EWC penalty is (1/gamma) sum_j F_j (theta_j - theta_hat_j)^2
 *     (the paper's N s / 2 with s = 2 / (gamma N)); larger gamma allows larger moves (> 0)
 * @param lambda extra isotropic pull (lambda/2) ||theta - theta_hat||^2 (>= 0)
 * @param learningRate Adam learning rate (> 0)
 * @param batchSize rows of the target per step (>= 1)
 * @param maxEpochs passes over the target (>= 1)
 * @param patience epochs without validation improvement before stopping (>= 1)
 * @param validationFraction share of the target held out for early stopping ([0, 1); 0 = validate on all rows)
 * @param stopOn what early stopping watches on the validation rows of the target (not null)
 */
public record EwcOptions(double gamma, double lambda, double learningRate, int batchSize, int maxEpochs,
    int patience, double validationFraction, StopOn stopOn) {

  /** The early-stopping criterion of the update on the validation rows of its target. */
  public enum StopOn {
    /** The update's objective J (the signed mean log-likelihood minus the penalties). */
    OBJECTIVE("objective"),
    /** The accuracy on the validation rows (negated when unlearning); ties keep the earlier epoch. */
    ACCURACY("accuracy");

    private final String key;

    StopOn(String key) {
      this.key = key;
    }

    public String key() {
      return key;
    }

    /** The criterion called {@code name} ({@code objective} or {@code accuracy}). */
    public static StopOn parse(String name) {
      for (StopOn s : values()) {
        if (s.key.equals(name == null ? "" : name.trim())) {
          return s;
        }
      }
      throw new IllegalArgumentException("stopOn must be objective or accuracy, got '" + name + "'");
    }
  }

  /** The options with early stopping on the objective J. */
  public EwcOptions(double gamma, double lambda, double learningRate, int batchSize, int maxEpochs, int patience,
      double validationFraction) {
    this(gamma, lambda, learningRate, batchSize, maxEpochs, patience, validationFraction, StopOn.OBJECTIVE);
  }

  public EwcOptions {
    if (stopOn == null) {
      throw new IllegalArgumentException("stopOn must be given (objective or accuracy)");
    }
    if (!(gamma > 0) || Double.isInfinite(gamma)) {
      throw new IllegalArgumentException("gamma must be finite and > 0, got " + gamma);
    }
    if (!(lambda >= 0) || Double.isInfinite(lambda)) {
      throw new IllegalArgumentException("lambda must be finite and >= 0, got " + lambda);
    }
    if (!(learningRate > 0) || Double.isInfinite(learningRate)) {
      throw new IllegalArgumentException("learningRate must be finite and > 0, got " + learningRate);
    }
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
    }
    if (maxEpochs < 1) {
      throw new IllegalArgumentException("maxEpochs must be >= 1, got " + maxEpochs);
    }
    if (patience < 1) {
      throw new IllegalArgumentException("patience must be >= 1, got " + patience);
    }
    if (!(validationFraction >= 0 && validationFraction < 1)) {
      throw new IllegalArgumentException("validationFraction must be in [0, 1), got " + validationFraction);
    }
  }

  /** The defaults of conf/reference.conf ({@code lethe.identify.ewc}). */
  public static EwcOptions defaults() {
    return dev.lethe.config.Options.identifyEwc(dev.lethe.config.LetheConfig.defaults());
  }

  public EwcOptions withGamma(double g) {
    return new EwcOptions(g, lambda, learningRate, batchSize, maxEpochs, patience, validationFraction, stopOn);
  }
}
