package dev.lethe;

import java.nio.charset.StandardCharsets;

/**
 * Seed derivation. Every random choice derives its seed from the run's master seed and a fixed purpose tag (and,
 * where it varies per item, an index such as a row id or partition), so that no two purposes share a stream and
 * results do not depend on execution order or partitioning. Never a global seed.
 */
public final class Seeds {
  private Seeds() {}

  /** A seed for {@code purpose} (e.g. "noise", "failures.split"). */
  public static long derive(long seed, String purpose) {
    long h = 0x9E3779B97F4A7C15L;
    for (byte b : purpose.getBytes(StandardCharsets.UTF_8)) {
      h = mix64(h ^ b);
    }
    return mix64(seed ^ h);
  }

  /** A seed for item {@code index} of {@code purpose}. */
  public static long derive(long seed, String purpose, long index) {
    return mix64(derive(seed, purpose) + 0x9E3779B97F4A7C15L * (index + 1));
  }

  /** Stafford variant 13 of the SplitMix64 finaliser. */
  public static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}
