package dev.lethe.repair;

import java.util.Locale;

/** Which ranked training examples become the culprits C that a repair erases (key {@code repair.selection}). */
public enum SelectionPolicy {
  /** Every example with r(z) > 0 (Tanno et al. 2022, Algorithm 1). */
  POSITIVE("positive"),
  /**
   * Every example whose data value is below zero (Ghorbani and Zou 2019): for the data-valuation methods
   * (knn-shapley, tmc-shapley), whose culprits-table score is minus the value, the examples with score > 0. There
   * is no count to choose. Only for tables of those methods ({@link Selection#requireFits}).
   */
  NEGATIVE("negative"),
  /** The k highest-ranked examples ({@code repair.top-k}). */
  TOP_K("top-k"),
  /** The ceil(fraction * N) highest-ranked examples ({@code repair.top-fraction}; the paper removes 15%). */
  TOP_FRACTION("top-fraction");

  private final String configName;

  SelectionPolicy(String configName) {
    this.configName = configName;
  }

  /** The name used in configuration files. */
  public String configName() {
    return configName;
  }

  /**
   * @throws IllegalArgumentException naming {@code repair.selection} and the known names
   */
  public static SelectionPolicy parse(String name) {
    String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
    for (SelectionPolicy p : values()) {
      if (p.configName.equals(n)) {
        return p;
      }
    }
    throw new IllegalArgumentException("repair.selection: unknown selection policy '" + name
        + "' (known: positive, negative, top-k, top-fraction)");
  }
}
