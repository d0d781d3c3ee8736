package dev.lethe.spark.io;

import com.typesafe.config.Config;

/** The identify stage's ranking tables, one per method, and what their provenance records. */
public final class CulpritTables {
  private CulpritTables() {}

  /** The provenance of {@code wd}'s ranking of {@code method} (its timings and diagnostics). */
  public static Config provenance(Workdir wd, String method) {
    String rel = WorkdirLayout.culprits(method) + Workdir.PROVENANCE_SUFFIX;
    return Json.parse(wd.readBytes(rel), wd.path(rel).toString());
  }
}
