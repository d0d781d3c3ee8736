package dev.lethe.bench;

import dev.lethe.LetheInputException;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The benchmark suites of {@code lethe bench --suite NAME}. */
public enum BenchSuite {
  /** One seed, the label-flip setting with the demo's noise and epoch caps: about 20-25 minutes on 2 cores. */
  QUICK,
  /** The paper's protocol: 5 seeds, label-flip, salt-and-pepper and FGSM settings, training to early stopping. */
  PAPER,
  /** Scaling with the training-set size and the cluster ({@link ScaleSuite}). */
  SCALE,
  /** The generic DL4J backend against the CNN fast path on the paper CNN, in one JVM ({@link BackendSuite}). */
  BACKEND;

  public String cliName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The suite called {@code name}; bad input listing the suites otherwise. */
  public static BenchSuite byName(String name) {
    for (BenchSuite s : values()) {
      if (s.cliName().equals(name)) {
        return s;
      }
    }
    throw LetheInputException.of("unknown benchmark suite '%s' (expected one of %s)", name,
        Arrays.stream(values()).map(BenchSuite::cliName).collect(Collectors.joining(", ")));
  }
}
