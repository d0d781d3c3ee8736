package dev.lethe;

/**
 * Bad input or configuration: a missing or malformed file, a schema that does not match, an invalid config
 * value. The message names the input (file, table or config key) and the problem. The command-line layer maps
 * it to exit code 2; every other exception is an internal error (exit 1).
 */
public class LetheInputException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public LetheInputException(String message) {
    super(message);
  }

  public LetheInputException(String message, Throwable cause) {
    super(message, cause);
  }

  /** Formats {@code String.format(format, args)}. */
  public static LetheInputException of(String format, Object... args) {
    return new LetheInputException(String.format(java.util.Locale.ROOT, format, args));
  }
}
