package dev.lethe.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.SparkSession;

/**
 * The facts about the machine and setup that a suite's timings depend on: the processor (model, vector extensions,
 * caches), the cores the JVM may use, the kernels OpenBLAS runs and the Spark master. The
 * summary lists them, and {@code bench --resume} refuses to pool runs measured under different facts: timings and
 * rates of two machines (or of local[1] and local[2]) are not one experiment. They are the driver's: in local mode,
 * where the bench runs by default, also the executors'; on a cluster the master URL stands for the executors.
 */
final class Machine {
  /** Vector extensions that decide a BLAS kernel's speed, as /proc/cpuinfo spells them, and how they are shown. */
  private static final Map<String, String> EXTENSIONS = extensions();

  private Machine() {}

  private static Map<String, String> extensions() {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("avx2", "AVX2");
    m.put("fma", "FMA");
    m.put("avx512f", "AVX-512F");
    m.put("asimd", "ASIMD");
    m.put("sve", "SVE");
    return m;
  }

  /** Named facts, in a fixed order: processor, cores, OpenBLAS kernels, Spark master. */
  static Map<String, String> facts(SparkSession spark) {
    Map<String, String> f = new LinkedHashMap<>();
    f.put("processor", processor());
    f.put("cores", Integer.toString(Runtime.getRuntime().availableProcessors()));
    f.put("openblas_kernels", GemmRate.openBlasKernels());
    f.put("spark_master", spark.sparkContext().master() + " (default parallelism "
        + spark.sparkContext().defaultParallelism() + ")");
    return f;
  }

  /** This machine's processor, from /proc/cpuinfo and the first CPU's cache directory in sysfs (Linux). */
  static String processor() {
    String cpuinfo;
    try {
      cpuinfo = Files.readString(Path.of("/proc/cpuinfo"));
    } catch (IOException | RuntimeException e) {
      cpuinfo = "";
    }
    return processor(cpuinfo, caches(Path.of("/sys/devices/system/cpu/cpu0/cache")), System.getProperty("os.arch"));
  }

  /**
   * The processor as {@code model (family f, model m, stepping s), extensions, caches L1d .. L3 ..}: the first
   * processor's block of {@code cpuinfo} (the parts it has), and {@code caches} ({@link #caches}). Without a model
   * name it says {@code unknown <arch> processor}.
   */
  static String processor(String cpuinfo, String caches, String arch) {
    Map<String, String> first = firstBlock(cpuinfo);
    String name = first.getOrDefault("model name", "");
    StringBuilder s = new StringBuilder(name.isBlank() ? "unknown " + arch + " processor" : name);
    List<String> ids = new ArrayList<>();
    for (String key : List.of("cpu family", "model", "stepping")) {
      String v = first.get(key);
      if (v != null && !v.isBlank()) {
        ids.add(key.replace("cpu ", "") + " " + v);
      }
    }
    if (!ids.isEmpty()) {
      s.append(" (").append(String.join(", ", ids)).append(')');
    }
    String flags = first.getOrDefault("flags", first.getOrDefault("Features", ""));
    List<String> has = new ArrayList<>();
    List<String> words = List.of(flags.trim().split("\\s+"));
    EXTENSIONS.forEach((flag, shown) -> {
      if (words.contains(flag)) {
        has.add(shown);
      }
    });
    if (!has.isEmpty()) {
      s.append(", ").append(String.join(" ", has));
    }
    if (!caches.isEmpty()) {
      s.append(", caches ").append(caches);
    }
    return s.toString();
  }

  /** The key-value lines of the first blank-line-separated block of {@code cpuinfo}. */
  private static Map<String, String> firstBlock(String cpuinfo) {
    Map<String, String> m = new LinkedHashMap<>();
    for (String line : cpuinfo.split("\n", -1)) {
      if (line.isBlank()) {
        if (!m.isEmpty()) {
          break;
        }
        continue;
      }
      int colon = line.indexOf(':');
      if (colon > 0) {
        m.putIfAbsent(line.substring(0, colon).trim(), line.substring(colon + 1).trim());
      }
    }
    return m;
  }

  /**
   * The caches in {@code dir} (sysfs' {@code index*} directories, each with level, type and size) as
   * {@code L1d 32K L1i 32K L2 1024K L3 32768K}, by level then data before instruction; empty when there are none.
   */
  static String caches(Path dir) {
    Map<String, String> byName = new TreeMap<>();
    try (var entries = Files.list(dir)) {
      for (Path p : entries.filter(e -> e.getFileName().toString().startsWith("index")).toList()) {
        String level = read(p.resolve("level"));
        String type = read(p.resolve("type"));
        String size = read(p.resolve("size"));
        if (level.isEmpty() || size.isEmpty()) {
          continue;
        }
        String suffix = switch (type.toLowerCase(Locale.ROOT)) {
          case "data" -> "d";
          case "instruction" -> "i";
          default -> "";
        };
        byName.put("L" + level + suffix, size);
      }
    } catch (IOException | RuntimeException e) {
      return "";
    }
    List<String> parts = new ArrayList<>();
    byName.forEach((k, v) -> parts.add(k + " " + v));
    return String.join(" ", parts);
  }

  private static String read(Path p) {
    try {
      return Files.readString(p).trim();
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  /** The facts that differ between {@code saved} and {@code now}, as {@code name: saved, now now}; empty if none. */
  static List<String> differences(Map<String, ?> saved, Map<String, String> now) {
    List<String> diff = new ArrayList<>();
    for (Map.Entry<String, String> e : now.entrySet()) {
      Object was = saved.get(e.getKey());
      if (!e.getValue().equals(was == null ? null : was.toString())) {
        diff.add(e.getKey() + ": " + (was == null ? "not recorded" : was) + ", now " + e.getValue());
      }
    }
    return diff;
  }
}
