package dev.lethe.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigValue;
import dev.lethe.LetheInputException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The validated, immutable configuration of one run: {@code reference.conf} (every key with its default, shipped
 * in the jar and documented in {@code conf/reference.conf}), overlaid by an optional HOCON file, overlaid by
 * {@code --set key=value} overrides. Keys are written without the {@code lethe.} prefix
 * ({@code train.max-epochs}); the prefixed form is accepted too.
 *
 * <p>Unknown keys are rejected (a typo must not silently fall back to a default), and every typed getter reports
 * a wrong type or out-of-range value as a {@link LetheInputException} naming the key.
 */
public final class LetheConfig implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final String ROOT = "lethe";

  /** Rendered JSON of the {@code lethe} subtree; the Config itself is rebuilt lazily (it is not Serializable). */
  private final String json;
  private transient Config config;

  private LetheConfig(Config resolved) {
    this.config = resolved;
    this.json = resolved.root().render(ConfigRenderOptions.concise());
  }

  /** A HOCON text and the name it is reported under (a file path, a classpath resource). */
  public record Source(String name, String text) {}

  /** The defaults alone (conf/reference.conf): the one place every default is written. */
  public static LetheConfig defaults() {
    return Defaults.CONFIG;
  }

  /** Parsed once, on first use. */
  private static final class Defaults {
    static final LetheConfig CONFIG = load(List.of(), List.of());
  }

  /** One optional config file over the defaults, then overrides. */
  public static LetheConfig load(String fileText, String fileName, List<String> overrides) {
    return load(fileText == null ? List.of() : List.of(new Source(fileName, fileText)), overrides);
  }

  /** Reads a config layer shipped on the classpath (for example {@code lethe-conf/demo.conf}). */
  public static Source classpathSource(String resource) {
    try (java.io.InputStream in = LetheConfig.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw LetheInputException.of("config resource %s is not on the classpath", resource);
      }
      return new Source("classpath:" + resource, new String(in.readAllBytes(),
          java.nio.charset.StandardCharsets.UTF_8));
    } catch (java.io.IOException e) {
      throw new LetheInputException("config resource " + resource + ": " + e.getMessage(), e);
    }
  }

  /**
   * @param layers HOCON files, lowest precedence first, each over the defaults
   * @param overrides {@code key=value} strings from {@code --set}; values are HOCON ({@code [1, 2]}, quoted strings)
   */
  public static LetheConfig load(List<Source> layers, List<String> overrides) {
    Config reference = ConfigFactory.parseResources(LetheConfig.class.getClassLoader(), "reference.conf",
        ConfigParseOptions.defaults().setAllowMissing(false)).resolve();
    Config merged = reference;
    for (Source layer : layers) {
      Config file;
      try {
        file = ConfigFactory.parseString(layer.text(),
            ConfigParseOptions.defaults().setOriginDescription(layer.name()));
      } catch (ConfigException e) {
        throw LetheInputException.of("config file %s: %s", layer.name(), e.getMessage());
      }
      file = file.hasPath(ROOT) ? file : file.atPath(ROOT);
      checkKnownKeys(file, reference, "config file " + layer.name());
      merged = file.withFallback(merged);
    }
    for (String override : overrides) {
      Config one = parseOverride(override);
      checkKnownKeys(one, reference, "--set " + override);
      merged = one.withFallback(merged);
    }
    try {
      return new LetheConfig(merged.resolve().getConfig(ROOT));
    } catch (ConfigException e) {
      throw new LetheInputException("config: " + e.getMessage(), e);
    }
  }

  private static Config parseOverride(String override) {
    int eq = override.indexOf('=');
    if (eq <= 0) {
      throw LetheInputException.of("--set %s: expected key=value", override);
    }
    String key = qualify(override.substring(0, eq).trim());
    String value = override.substring(eq + 1).trim();
    try {
      return ConfigFactory.parseString(key + " = " + value,
          ConfigParseOptions.defaults().setSyntax(ConfigSyntax.CONF).setOriginDescription("--set"));
    } catch (ConfigException e) {
      // A bare string with characters HOCON does not accept unquoted (paths with ':' and such): quote it.
      try {
        return ConfigFactory.parseString(key + " = " + ConfigValueQuoting.quote(value));
      } catch (ConfigException e2) {
        throw LetheInputException.of("--set %s: cannot parse value: %s", override, e.getMessage());
      }
    }
  }

  private static String qualify(String key) {
    return key.startsWith(ROOT + ".") ? key : ROOT + "." + key;
  }

  private static void checkKnownKeys(Config given, Config reference, String origin) {
    for (Map.Entry<String, ConfigValue> e : given.entrySet()) {
      String key = e.getKey();
      if (!reference.hasPathOrNull(key)) {
        throw LetheInputException.of("%s: unknown config key '%s'%s", origin, strip(key), suggestion(key, reference));
      }
    }
  }

  private static String suggestion(String key, Config reference) {
    String parent = key.contains(".") ? key.substring(0, key.lastIndexOf('.')) : key;
    if (reference.hasPath(parent) && reference.getValue(parent) instanceof com.typesafe.config.ConfigObject) {
      Set<String> known = new TreeSet<>(reference.getConfig(parent).root().keySet());
      return " (known keys under " + strip(parent) + ": " + String.join(", ", known) + ")";
    }
    return "";
  }

  private static String strip(String key) {
    return key.startsWith(ROOT + ".") ? key.substring(ROOT.length() + 1) : key;
  }

  private Config config() {
    if (config == null) {
      config = ConfigFactory.parseString(json);
    }
    return config;
  }

  /** The effective configuration as JSON (for provenance files). */
  public String toJson() {
    return json;
  }

  public String getString(String key) {
    try {
      return config().getString(key);
    } catch (ConfigException e) {
      throw wrongType(key, "a string", e);
    }
  }

  public boolean getBoolean(String key) {
    try {
      return config().getBoolean(key);
    } catch (ConfigException e) {
      throw wrongType(key, "true or false", e);
    }
  }

  public long getLong(String key) {
    try {
      return config().getLong(key);
    } catch (ConfigException e) {
      throw wrongType(key, "a whole number", e);
    }
  }

  public int getInt(String key) {
    try {
      return config().getInt(key);
    } catch (ConfigException e) {
      throw wrongType(key, "a whole number", e);
    }
  }

  public double getDouble(String key) {
    double v;
    try {
      v = config().getDouble(key);
    } catch (ConfigException e) {
      throw wrongType(key, "a number", e);
    }
    if (!Double.isFinite(v)) {
      throw LetheInputException.of("config key '%s': must be a finite number, got %s", key, v);
    }
    return v;
  }

  public List<Integer> getIntList(String key) {
    try {
      return List.copyOf(config().getIntList(key));
    } catch (ConfigException e) {
      throw wrongType(key, "a list of whole numbers", e);
    }
  }

  public List<Double> getDoubleList(String key) {
    try {
      return List.copyOf(config().getDoubleList(key));
    } catch (ConfigException e) {
      throw wrongType(key, "a list of numbers", e);
    }
  }

  /** A list of finite numbers. */
  public double[] getDoubleArray(String key) {
    List<Double> l;
    try {
      l = config().getDoubleList(key);
    } catch (ConfigException e) {
      throw wrongType(key, "a list of numbers", e);
    }
    double[] a = new double[l.size()];
    for (int i = 0; i < a.length; i++) {
      a[i] = l.get(i);
      if (!Double.isFinite(a[i])) {
        throw LetheInputException.of("config key '%s': must hold finite numbers, got %s", key, a[i]);
      }
    }
    return a;
  }

  public List<String> getStringList(String key) {
    try {
      return List.copyOf(config().getStringList(key));
    } catch (ConfigException e) {
      throw wrongType(key, "a list of strings", e);
    }
  }

  /**
   * A copy with one known key set to a string (the pipeline runs a stage once per value, e.g. repair.method);
   * the provenance of its outputs then records the value it ran with.
   */
  public LetheConfig withString(String key, String value) {
    if (!config().hasPathOrNull(key)) {
      throw LetheInputException.of("unknown config key '%s'", key);
    }
    return new LetheConfig(config().withValue(key, com.typesafe.config.ConfigValueFactory.fromAnyRef(value)));
  }

  /** A list of integer lists, e.g. label-flip class pairs {@code [[0, 6], [2, 4]]}. */
  public List<int[]> getIntPairs(String key) {
    List<int[]> pairs = new ArrayList<>();
    try {
      for (Object o : config().getList(key).unwrapped()) {
        if (!(o instanceof List<?> l) || l.size() != 2 || !(l.get(0) instanceof Number a)
            || !(l.get(1) instanceof Number b)) {
          throw LetheInputException.of("config key '%s': expected a list of [a, b] class pairs, found %s", key, o);
        }
        pairs.add(new int[] {a.intValue(), b.intValue()});
      }
    } catch (ConfigException e) {
      throw wrongType(key, "a list of [a, b] pairs", e);
    }
    return pairs;
  }

  // ---- validated getters -------------------------------------------------------------------------------

  public int positiveInt(String key) {
    int v = getInt(key);
    if (v <= 0) {
      throw LetheInputException.of("config key '%s': must be > 0, got %d", key, v);
    }
    return v;
  }

  public int nonNegativeInt(String key) {
    int v = getInt(key);
    if (v < 0) {
      throw LetheInputException.of("config key '%s': must be >= 0, got %d", key, v);
    }
    return v;
  }

  public double positiveDouble(String key) {
    double v = getDouble(key);
    if (v <= 0) {
      throw LetheInputException.of("config key '%s': must be > 0, got %s", key, v);
    }
    return v;
  }

  public double nonNegativeDouble(String key) {
    double v = getDouble(key);
    if (v < 0) {
      throw LetheInputException.of("config key '%s': must be >= 0, got %s", key, v);
    }
    return v;
  }

  /** A value in [lo, hi]. */
  public double doubleIn(String key, double lo, double hi) {
    double v = getDouble(key);
    if (v < lo || v > hi) {
      throw LetheInputException.of("config key '%s': must be in [%s, %s], got %s", key, lo, hi, v);
    }
    return v;
  }

  /** A string that must be one of {@code allowed}. */
  public String oneOf(String key, String... allowed) {
    String v = getString(key);
    if (!Arrays.asList(allowed).contains(v)) {
      throw LetheInputException.of("config key '%s': unknown value '%s' (expected one of %s)", key, v,
          String.join(", ", allowed));
    }
    return v;
  }

  private static LetheInputException wrongType(String key, String expected, ConfigException e) {
    if (e instanceof ConfigException.Missing) {
      return LetheInputException.of("config key '%s' is missing", key);
    }
    return new LetheInputException(String.format(Locale.ROOT, "config key '%s': expected %s (%s)", key, expected,
        e.getMessage()), e);
  }
}
