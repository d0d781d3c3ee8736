package dev.lethe.spark;

import dev.lethe.LetheInputException;
import java.util.ServiceLoader;

/**
 * The {@code bench} command's body. The benchmark harness is a module of its own ({@code bench}, package
 * {@code dev.lethe.bench}) that depends on this one, so the application jar carries none of it: {@code bin/lethe bench}
 * puts the bench jar on the class path, and this interface finds its implementation there through
 * {@link ServiceLoader}.
 */
public interface BenchCommand {
  /** Fails with bad input that lists the suites when there is no suite called {@code name}. */
  void checkSuite(String name);

  /** Runs the suite the arguments name. */
  void run(JobContext ctx) throws Exception;

  /** The implementation on the class path; bad input when the bench module is not there. */
  static BenchCommand load() {
    return ServiceLoader.load(BenchCommand.class).findFirst().orElseThrow(() -> LetheInputException.of(
        "the bench command is not in the application jar: run it with ./bin/lethe bench, which adds the bench"
            + " module's jar (bench/target/lethe-bench-*.jar) to the class path"));
  }
}
