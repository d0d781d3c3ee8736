package dev.lethe.math.backend;

import java.util.Locale;

/** The {@code compute.backend} setting: {@code auto} (the fast path where it applies) or {@code dl4j} (never). */
public enum ComputeBackend {
  /** The CNN fast path for the networks it supports on a CPU ND4J backend, DL4J for everything else. */
  AUTO,
  /** DL4J's own forward and backward passes for every model. */
  DL4J;

  /**
   * The setting named {@code value} ({@code auto} or {@code dl4j}, any case).
   *
   * @throws IllegalArgumentException naming the value
   */
  public static ComputeBackend parse(String value) {
    for (ComputeBackend b : values()) {
      if (b.configName().equals(value.trim().toLowerCase(Locale.ROOT))) {
        return b;
      }
    }
    throw new IllegalArgumentException("compute.backend must be auto or dl4j, got '" + value + "'");
  }

  /** The name in the configuration. */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
