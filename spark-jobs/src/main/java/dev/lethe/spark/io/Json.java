package dev.lethe.spark.io;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigSyntax;
import com.typesafe.config.ConfigValueFactory;
import dev.lethe.LetheInputException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON documents of the workdir (repair reports, the report summary), rendered and parsed with Typesafe Config
 * like the provenance files. JSON has no NaN or infinity: such numbers are written as {@code null}.
 */
public final class Json {
  private Json() {}

  /** Renders maps, lists, strings, numbers, booleans and nulls as formatted JSON (object keys sorted). */
  public static byte[] render(Map<String, ?> document) {
    return ConfigValueFactory.fromMap(finite(document)).render(ConfigRenderOptions.concise().setFormatted(true))
        .concat("\n").getBytes(StandardCharsets.UTF_8);
  }

  /** Parses a JSON object; malformed JSON is bad input naming {@code source}. */
  public static Config parse(byte[] bytes, String source) {
    try {
      return ConfigFactory.parseString(new String(bytes, StandardCharsets.UTF_8),
          ConfigParseOptions.defaults().setSyntax(ConfigSyntax.JSON).setOriginDescription(source));
    } catch (ConfigException e) {
      throw new LetheInputException(source + ": malformed JSON: " + e.getMessage(), e);
    }
  }

  /** A number that may be null in the document (NaN when null or absent). */
  public static double number(Config c, String path) {
    return c.hasPath(path) ? c.getDouble(path) : Double.NaN;
  }

  /** A copy with every non-finite double (also inside nested maps and lists) replaced by null. */
  static Map<String, Object> finite(Map<String, ?> m) {
    Map<String, Object> out = new LinkedHashMap<>();
    m.forEach((k, v) -> out.put(k, finiteValue(v)));
    return out;
  }

  @SuppressWarnings("unchecked")
  private static Object finiteValue(Object v) {
    if (v instanceof Double d) {
      return Double.isFinite(d) ? d : null;
    }
    if (v instanceof Float f) {
      return Float.isFinite(f) ? (double) f : null;
    }
    if (v instanceof Map<?, ?> map) {
      return finite((Map<String, ?>) map);
    }
    if (v instanceof Iterable<?> it) {
      List<Object> l = new ArrayList<>();
      it.forEach(x -> l.add(finiteValue(x)));
      return l;
    }
    if (v instanceof double[] a) {
      List<Object> l = new ArrayList<>(a.length);
      for (double x : a) {
        l.add(finiteValue(x));
      }
      return l;
    }
    return v;
  }
}
