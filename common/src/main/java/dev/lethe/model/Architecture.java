package dev.lethe.model;

import java.util.Locale;

/** The model families Lethe builds. */
public enum Architecture {
  /**
   * The paper's CNN (Tanno et al. 2022, App. B): four 3x3 convolutions with 32, 32, 64 and 64 kernels and ReLU,
   * 2x2 max-pooling after each of the first two, global average pooling and a dense softmax layer.
   */
  CNN,
  /** Dense ReLU layers of the configured widths, then a dense softmax layer. */
  MLP,
  /** Multinomial logistic regression (one dense softmax layer): convex, used to check influence methods. */
  LOGISTIC;

  /** The config spelling ({@code cnn}, {@code mlp}, {@code logistic}). */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }

  public static Architecture parse(String name) {
    for (Architecture a : values()) {
      if (a.configName().equals(name)) {
        return a;
      }
    }
    throw new IllegalArgumentException("model.architecture: unknown architecture '" + name
        + "' (expected cnn, mlp or logistic)");
  }
}
