package dev.lethe.config;

/** Quotes a raw string as a HOCON/JSON string literal. */
final class ConfigValueQuoting {
  private ConfigValueQuoting() {}

  static String quote(String raw) {
    StringBuilder b = new StringBuilder(raw.length() + 2).append('"');
    for (char c : raw.toCharArray()) {
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\t' -> b.append("\\t");
        default -> b.append(c);
      }
    }
    return b.append('"').toString();
  }
}
