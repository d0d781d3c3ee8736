package dev.lethe.spark.cli;

import java.io.PrintStream;
import java.math.BigDecimal;
import java.util.Locale;

/** The one place that writes to the terminal: stage summaries to stdout, errors to stderr. */
public final class Console {
  private final PrintStream out;
  private final PrintStream err;

  public Console(PrintStream out, PrintStream err) {
    this.out = out;
    this.err = err;
  }

  public static Console system() {
    return new Console(System.out, System.err);
  }

  public void line(String format, Object... args) {
    out.println(String.format(Locale.ROOT, format, args));
    out.flush();
  }

  /** A number in its shortest plain decimal form, for messages and labels: 0.15 -> "0.15", 15.0 -> "15". */
  public static String plain(double v) {
    return new BigDecimal(Double.toString(v)).stripTrailingZeros().toPlainString();
  }

  public void error(String format, Object... args) {
    err.println(String.format(Locale.ROOT, format, args));
    err.flush();
  }
}
