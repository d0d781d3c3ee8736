package dev.lethe.spark.io;

import com.typesafe.config.Config;

/** The identify stage's ranking tables, one per method, and what their provenance records. */
public final class RankingTables {
  private RankingTables() {}

  /** The provenance of {@code wd}'s ranking of {@code method} (its timings and diagnostics). */
  public static Config provenance(Workdir wd, String method) {
    String rel = WorkdirLayout.ranking(method) + Workdir.PROVENANCE_SUFFIX;
    return Json.parse(wd.readBytes(rel), wd.path(rel).toString());
  }
}
