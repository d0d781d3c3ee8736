package dev.lethe.repair;

import java.io.Serializable;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Values of a repair's knobs, in a fixed order: a setting of the operating-point search (e.g. gamma = 0.03) or a
 * point on the path that setting traces (gamma = 0.03, epoch = 4).
 *
 * @param names knob names as in the configuration (e.g. {@code gamma}, {@code epoch}); unique
 * @param values their values, same order
 */
public record Knobs(String[] names, double[] values) implements Serializable {

  public Knobs {
    if (names.length != values.length) {
      throw new IllegalArgumentException("knob names and values differ in length");
    }
    if (Arrays.stream(names).distinct().count() != names.length) {
      throw new IllegalArgumentException("knob names repeat: " + Arrays.toString(names));
    }
    names = names.clone();
    values = values.clone();
  }

  /** No knob: the one setting of a method without a grid. */
  public static Knobs none() {
    return new Knobs(new String[0], new double[0]);
  }

  public static Knobs of(String name, double value) {
    return new Knobs(new String[] {name}, new double[] {value});
  }

  /** These knobs and one more. */
  public Knobs with(String name, double value) {
    String[] n = Arrays.copyOf(names, names.length + 1);
    double[] v = Arrays.copyOf(values, values.length + 1);
    n[names.length] = name;
    v[values.length] = value;
    return new Knobs(n, v);
  }

  /** The value of {@code name}. */
  public double get(String name) {
    for (int i = 0; i < names.length; i++) {
      if (names[i].equals(name)) {
        return values[i];
      }
    }
    throw new IllegalArgumentException("no knob '" + name + "' in " + this);
  }

  /** Name to value, in order (for reports). */
  public Map<String, Double> asMap() {
    Map<String, Double> m = new LinkedHashMap<>();
    for (int i = 0; i < names.length; i++) {
      m.put(names[i], values[i]);
    }
    return m;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Knobs k && Arrays.equals(names, k.names) && Arrays.equals(values, k.values);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(names) + Arrays.hashCode(values);
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < names.length; i++) {
      b.append(i == 0 ? "" : ", ").append(names[i]).append(" = ")
          .append(java.math.BigDecimal.valueOf(values[i]).stripTrailingZeros().toPlainString());
    }
    return b.toString();
  }
}
