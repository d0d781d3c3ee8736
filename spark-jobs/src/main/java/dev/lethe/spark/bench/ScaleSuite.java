package dev.lethe.spark.bench;

import dev.lethe.LetheInputException;

/** The scaling suite. Placeholder until the scaling benchmarks land: it only says it is not available. */
public final class ScaleSuite {
  private ScaleSuite() {}

  public static void run(BenchContext ctx) {
    throw new LetheInputException("the scale suite is not available in this build");
  }
}
