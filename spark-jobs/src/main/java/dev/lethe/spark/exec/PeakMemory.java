package dev.lethe.spark.exec;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.OptionalLong;

/**
 * The peak memory of this JVM so far, as printed at the end of every stage: the resident set high-water mark
 * ({@code VmHWM} of /proc/self/status on Linux: heap, ND4J's off-heap buffers, native libraries and code; absent
 * elsewhere) and the sum of the heap memory pools' peak usage (an upper bound on the heap in use at any one time).
 * In local mode the executors run in this JVM, so the figures cover the whole stage.
 */
public final class PeakMemory {
  private static final long MB = 1024L * 1024L;

  private PeakMemory() {}

  /** The resident set high-water mark in bytes, if the platform reports it. */
  public static OptionalLong residentBytes() {
    Path status = Path.of("/proc/self/status");
    if (!Files.isReadable(status)) {
      return OptionalLong.empty();
    }
    try {
      for (String line : Files.readAllLines(status)) {
        if (line.startsWith("VmHWM:")) {
          String[] f = line.substring(6).trim().split("\\s+");
          return OptionalLong.of(Long.parseLong(f[0]) * 1024L);
        }
      }
    } catch (IOException | NumberFormatException e) {
      return OptionalLong.empty();
    }
    return OptionalLong.empty();
  }

  /** The sum of the heap memory pools' peak usage, in bytes. */
  public static long heapBytes() {
    long sum = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP && pool.getPeakUsage() != null) {
        sum += pool.getPeakUsage().getUsed();
      }
    }
    return sum;
  }

  /** "peak memory: resident R MB, JVM heap H MB" (resident omitted when the platform does not report it). */
  public static String describe() {
    OptionalLong rss = residentBytes();
    return String.format(Locale.ROOT, "peak memory: %sJVM heap %d MB",
        rss.isPresent() ? "resident " + rss.getAsLong() / MB + " MB, " : "", heapBytes() / MB);
  }
}
