package dev.lethe.bench;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValue;
import dev.lethe.LetheInputException;
import dev.lethe.config.LetheConfig;
import dev.lethe.spark.io.Json;
import dev.lethe.spark.io.Workdir;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What {@code lethe bench --resume} needs to continue a quality suite in ROOT/&lt;suite&gt;/: bench-state.json
 * (written when the suite starts: the suite, the bench stage's effective configuration without
 * {@code bench.paper.seeds}, a fingerprint of the build and the {@link Machine} facts), and in results.csv one marker
 * row per setting x seed run that finished without a failed step or a note. A resumed suite keeps exactly those runs'
 * rows and runs the others again; it refuses when the configuration, the build or the machine differs, because the
 * results would then mix two experiments.
 */
final class BenchState {
  static final String FILE = "bench-state.json";
  /** The marker row of a completed run: experiment {@value}, method {@value #SUITE_METHOD}, metric "complete". */
  static final String RUN = "run";
  static final String COMPLETE = "complete";
  static final String SUITE_METHOD = "bench";
  /** The one key a resumed suite may change: more (or fewer) seeds of the same experiment. */
  static final String SEEDS_KEY = BenchJob.PAPER_SEEDS;

  private BenchState() {}

  /** Writes bench-state.json into the suite directory. */
  static void write(Workdir out, BenchSuite suite, LetheConfig config, Map<String, String> machine) {
    Map<String, Object> state = new LinkedHashMap<>();
    state.put("suite", suite.cliName());
    state.put("build", buildFingerprint());
    state.put("machine", machine);
    state.put("config", ConfigFactory.parseString(comparable(config)).root().unwrapped());
    try (Workdir.Staging s = out.stage("bench-state")) {
      s.writeBytes(FILE, Json.render(state));
      s.commit();
    }
  }

  /**
   * Checks that ROOT/&lt;suite&gt;/ holds a suite this invocation can continue.
   *
   * @throws LetheInputException naming the directory and what differs
   */
  static void requireResumable(Workdir root, String suiteDir, BenchSuite suite, LetheConfig config,
      Map<String, String> machine) {
    String rel = suiteDir + "/" + FILE;
    if (!root.exists(rel)) {
      throw LetheInputException.of("--resume: %s has no %s, so there is no suite run to continue (start one without"
          + " --resume)", root.path(suiteDir), FILE);
    }
    Config saved = Json.parse(root.readBytes(rel), root.path(rel).toString());
    if (!saved.getString("suite").equals(suite.cliName())) {
      throw LetheInputException.of("--resume: %s holds suite %s, not %s", root.path(suiteDir),
          saved.getString("suite"), suite.cliName());
    }
    String build = buildFingerprint();
    if (!saved.getString("build").equals(build)) {
      throw LetheInputException.of("--resume: %s was produced by another build of Lethe (%s, now %s); results of"
          + " two builds cannot be pooled, so rerun the suite with --overwrite", root.path(rel),
          saved.getString("build"), build);
    }
    Map<String, Object> savedMachine = saved.hasPath("machine") ? saved.getObject("machine").unwrapped() : Map.of();
    List<String> moved = Machine.differences(savedMachine, machine);
    if (!moved.isEmpty()) {
      throw LetheInputException.of("--resume: %s was measured on another machine or setup (%s); timings and rates of"
          + " two machines or setups cannot be pooled, so resume it where it started or rerun the suite with"
          + " --overwrite", root.path(suiteDir), String.join("; ", moved));
    }
    List<String> changed = differences(saved.getConfig("config"), ConfigFactory.parseString(comparable(config)));
    if (!changed.isEmpty()) {
      throw LetheInputException.of("--resume: the configuration differs from the one %s was started with, in %s;"
          + " pass the same --config and --set (only %s may change) or rerun with --overwrite", root.path(suiteDir),
          String.join(", ", changed), SEEDS_KEY);
    }
  }

  /** The settings x seeds ("setting/seed") that have a completion marker among {@code rows}. */
  static Set<String> completedRuns(List<BenchResults.Row> rows) {
    Set<String> done = new LinkedHashSet<>();
    for (BenchResults.Row r : rows) {
      if (r.experiment().equals(RUN) && r.metric().equals(COMPLETE)) {
        done.add(key(r.setting(), r.seed()));
      }
    }
    return done;
  }

  static String key(String setting, long seed) {
    return setting + "/" + seed;
  }

  private static String comparable(LetheConfig config) {
    return ConfigFactory.parseString(config.toJson()).withoutPath(SEEDS_KEY).root().render(
        com.typesafe.config.ConfigRenderOptions.concise());
  }

  /** The keys whose values differ (or exist on one side only), sorted. */
  static List<String> differences(Config a, Config b) {
    Set<String> keys = new TreeSet<>();
    for (Map.Entry<String, ConfigValue> e : a.entrySet()) {
      keys.add(e.getKey());
    }
    for (Map.Entry<String, ConfigValue> e : b.entrySet()) {
      keys.add(e.getKey());
    }
    List<String> diff = new ArrayList<>();
    for (String k : keys) {
      boolean ha = a.hasPathOrNull(k);
      boolean hb = b.hasPathOrNull(k);
      if (ha != hb || (ha && !a.getValue(k).unwrapped().equals(b.getValue(k).unwrapped()))) {
        diff.add(k);
      }
    }
    return diff;
  }

  /**
   * The build a suite ran with: the fingerprints of the bench jar and of the application jar (whose stages the suite
   * runs), each the SHA-256 of the jar or "classes " + the directory when it runs from compiled classes (tests, an
   * IDE).
   */
  static String buildFingerprint() {
    String bench = fingerprint(BenchState.class);
    String app = fingerprint(dev.lethe.spark.StageRunner.class);
    return bench.equals(app) ? bench : bench + "; application " + app;
  }

  private static String fingerprint(Class<?> c) {
    try {
      Path where = Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
      if (Files.isDirectory(where)) {
        return "classes " + where;
      }
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      byte[] buf = new byte[1 << 16];
      try (InputStream in = Files.newInputStream(where)) {
        for (int n; (n = in.read(buf)) > 0;) {
          sha.update(buf, 0, n);
        }
      }
      return "sha256 " + HexFormat.of().formatHex(sha.digest());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot fingerprint " + c.getName() + "'s jar", e);
    } catch (URISyntaxException | NoSuchAlgorithmException | SecurityException | NullPointerException e) {
      return "unknown";
    }
  }
}
