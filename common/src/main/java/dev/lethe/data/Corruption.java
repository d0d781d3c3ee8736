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

  /**
   * Whether a ranking succeeds by putting this kind of corrupted example <b>above</b> the random base rate at the top
   * (the corruption causes failures, so its rows are the culprits: label flips, and FGSM poison labelled by the victim)
   * or <b>below</b> it (input noise with correct labels, salt-and-pepper and Gaussian, is harmless to the failures:
   * the paper expects EWC-influence to avoid it, Tanno et al. 2022, Sec. 5). Null for {@code NONE}.
   */
  public Direction success() {
    return switch (this) {
      case NONE -> null;
      case LABEL_FLIP, FGSM -> Direction.ABOVE_RANDOM;
      case SALT_PEPPER, GAUSSIAN -> Direction.BELOW_RANDOM;
    };
  }

  /** The direction in which a ranking's corrupted share at the top counts as success. */
  public enum Direction {
    ABOVE_RANDOM("above random: the corrupted examples cause the failures, so a good ranking puts them first"),
    BELOW_RANDOM("below random: the noise is harmless to the failures (correct labels), so a good ranking avoids it");

    private final String meaning;

    Direction(String meaning) {
      this.meaning = meaning;
    }

    /** A sentence for reports: which direction and why. */
    public String meaning() {
      return meaning;
    }
  }

  /** The sentence reports print for this kind: its code and its {@link #success() success direction}. */
  public String successSentence() {
    Direction d = success();
    return d == null ? code + ": clean" : code + ": success = corrupted share at the top " + d.meaning();
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
