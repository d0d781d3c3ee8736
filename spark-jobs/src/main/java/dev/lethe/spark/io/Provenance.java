package dev.lethe.spark.io;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValueFactory;
import dev.lethe.config.LetheConfig;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;

/**
 * What produced an output: stage, time, seed, the effective configuration, library versions and the identity
 * (path, size, modification time, and where known a content fingerprint) of every input. Written as
 * {@code <output>.provenance.json}.
 */
public final class Provenance {
  private final Map<String, Object> fields = new LinkedHashMap<>();
  private final List<Map<String, Object>> inputs = new ArrayList<>();

  public Provenance(String stage, LetheConfig config) {
    fields.put("stage", stage);
    fields.put("created", Instant.now().toString());
    fields.put("seed", config.getLong("seed"));
    Map<String, Object> versions = new LinkedHashMap<>();
    versions.put("lethe", versionOf(Provenance.class, "dev"));
    versions.put("spark", org.apache.spark.package$.MODULE$.SPARK_VERSION());
    versions.put("dl4j", versionOf(org.deeplearning4j.nn.multilayer.MultiLayerNetwork.class, "1.0.0-M2.1"));
    versions.put("java", System.getProperty("java.version"));
    fields.put("versions", versions);
    fields.put("config", ConfigFactory.parseString(config.toJson()).root().unwrapped());
  }

  private static String versionOf(Class<?> c, String fallback) {
    String v = c.getPackage() == null ? null : c.getPackage().getImplementationVersion();
    return v == null ? fallback : v;
  }

  /** Records an input file or table by path, size and modification time. */
  public Provenance input(Workdir workdir, String rel) {
    return input(workdir, workdir.path(rel), null);
  }

  /** Records an input with a content fingerprint (for example a model's parameter hash). */
  public Provenance input(Workdir workdir, Path p, String fingerprint) {
    Map<String, Object> in = new LinkedHashMap<>();
    in.put("path", p.toString());
    try {
      org.apache.hadoop.fs.FileSystem fs = p.getFileSystem(workdir.fileSystem().getConf());
      FileStatus st = fs.getFileStatus(p);
      in.put("bytes", st.isDirectory() ? fs.getContentSummary(p).getLength() : st.getLen());
      in.put("modified", Instant.ofEpochMilli(st.getModificationTime()).toString());
    } catch (IOException e) {
      in.put("error", e.getMessage());
    }
    if (fingerprint != null) {
      in.put("fingerprint", fingerprint);
    }
    inputs.add(in);
    return this;
  }

  /** Records an input outside the workdir that is not a file (e.g. the bundled data set). */
  public Provenance input(String description) {
    inputs.add(Map.of("path", description));
    return this;
  }

  /** Adds a field (counts, timings, metrics). */
  public Provenance put(String key, Object value) {
    fields.put(key, value);
    return this;
  }

  /**
   * The content fingerprint that the provenance of output {@code outputRel} recorded for its input
   * {@code inputRel} (e.g. the model/base.zip a ranking table was computed with); empty when there is no
   * provenance file or it recorded none.
   */
  public static Optional<String> recordedFingerprint(Workdir workdir, String outputRel, String inputRel) {
    String rel = outputRel + Workdir.PROVENANCE_SUFFIX;
    if (!workdir.exists(rel)) {
      return Optional.empty();
    }
    Config prov = Json.parse(workdir.readBytes(rel), workdir.path(rel).toString());
    if (!prov.hasPath("inputs")) {
      return Optional.empty();
    }
    for (Config in : prov.getConfigList("inputs")) {
      if (in.hasPath("path") && in.hasPath("fingerprint") && (in.getString("path").endsWith("/" + inputRel)
          || in.getString("path").equals(inputRel))) {
        return Optional.of(in.getString("fingerprint"));
      }
    }
    return Optional.empty();
  }

  public String toJson() {
    Map<String, Object> all = new LinkedHashMap<>(fields);
    all.put("inputs", inputs);
    return ConfigValueFactory.fromMap(all).render(ConfigRenderOptions.concise().setFormatted(true));
  }
}
