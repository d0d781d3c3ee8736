package dev.lethe.data;

import dev.lethe.LetheInputException;

/** How a training example was corrupted by noise injection (recorded per row; {@code none} for clean rows). */
public enum Corruption {
  NONE("none"),
  LABEL_FLIP("label_flip"),
  SALT_PEPPER("salt_pepper"),
  GAUSSIAN("gaussian"),
  FGSM("fgsm");

  private final String code;

  Corruption(String code) {
    this.code = code;
  }

  /** The value stored in the {@code corruption} column. */
  public String code() {
    return code;
  }

  /** Parses a {@code corruption} column value; {@code source} names the input for the error message. */
  public static Corruption parse(String value, String source) {
    for (Corruption c : values()) {
      if (c.code.equals(value)) {
        return c;
      }
    }
    throw LetheInputException.of("%s: unknown corruption '%s' (expected one of none, label_flip, salt_pepper,"
        + " gaussian, fgsm)", source, value == null ? "null" : value);
  }
}
