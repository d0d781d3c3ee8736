package dev.lethe.math.cnn.vector;

import java.lang.management.ManagementFactory;
import java.lang.reflect.Field;

/**
 * Where the JVM placed a {@code double[]}'s elements relative to a power-of-two boundary, for the vector kernels:
 * a 64-byte vector load from an address that is not a multiple of 64 spans two cache lines, and {@link VectorConv}'s
 * packed kernel loads a weight vector for every 4 fused multiply-adds, so it is faster with its weights on a line
 * boundary. Java has no aligned arrays, and a collection may move an array, so the kernels' callers ask where an
 * array is each time and keep their weights at an aligned index of an array with slack ({@link AlignedWeights}).
 *
 * <p>The address comes from {@code sun.misc.Unsafe} (module {@code jdk.unsupported}) the way JOL reads it: the
 * reference is stored in an {@code Object[]} and read back as an int (a compressed reference, decoded with the JVM's
 * shift) or a long. Only that read is made; no memory is read at the address, so a wrong decoding could only cost
 * speed, never correctness. When any of it is unavailable (another JVM, a security manager) {@link #alignedIndex}
 * answers -1 and callers use index 0.
 */
final class ArrayAlignment {
  /** The probe, or null when addresses cannot be read here. */
  private static final Probe PROBE = Probe.create();

  private ArrayAlignment() {}

  /** Whether {@link #alignedIndex} can answer in this JVM. */
  static boolean known() {
    return PROBE != null;
  }

  /**
   * The first index {@code i} in {@code [0, bytes / 8)} at which {@code a[i]} sits at an address that is a multiple of
   * {@code bytes} (a power of two from 8 to 4096), as of this call, or -1 when this JVM does not tell.
   */
  static int alignedIndex(double[] a, int bytes) {
    if (bytes < 8 || bytes > 4096 || Integer.bitCount(bytes) != 1) {
      throw new IllegalArgumentException("alignment " + bytes + " bytes: need a power of two from 8 to 4096");
    }
    if (PROBE == null) {
      return -1;
    }
    long first = PROBE.address(a) + PROBE.doubleBase;
    if ((first & 7) != 0) {
      return -1;
    }
    return (int) (((bytes - (first & (bytes - 1))) & (bytes - 1)) >>> 3);
  }

  /** Reads references as addresses (modulo the heap base, which is aligned far beyond a page). */
  private static final class Probe {
    private final sun.misc.Unsafe unsafe;
    private final long objectBase;
    private final boolean compressed;
    private final int shift;
    private final long doubleBase;

    private Probe(sun.misc.Unsafe unsafe, boolean compressed, int shift) {
      this.unsafe = unsafe;
      this.objectBase = unsafe.arrayBaseOffset(Object[].class);
      this.compressed = compressed;
      this.shift = shift;
      this.doubleBase = unsafe.arrayBaseOffset(double[].class);
    }

    long address(Object o) {
      Object[] holder = {o};
      return compressed ? (unsafe.getInt(holder, objectBase) & 0xFFFF_FFFFL) << shift
          : unsafe.getLong(holder, objectBase);
    }

    static Probe create() {
      try {
        Field f = sun.misc.Unsafe.class.getDeclaredField("theUnsafe");
        f.setAccessible(true);
        sun.misc.Unsafe u = (sun.misc.Unsafe) f.get(null);
        int scale = u.arrayIndexScale(Object[].class);
        if (scale == 8) {
          return new Probe(u, false, 0);
        }
        if (scale != 4) {
          return null;
        }
        var hotspot = ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
        int alignment = Integer.parseInt(hotspot.getVMOption("ObjectAlignmentInBytes").getValue());
        if (alignment < 8 || Integer.bitCount(alignment) != 1) {
          return null;
        }
        // compressed references are the address shifted right by log2(alignment), except in the "unscaled" mode of a
        // heap below 4 GB, where they are the address itself and so all multiples of the alignment; consecutive
        // 24-byte objects tell the two apart (shifted, their references differ by 24 / alignment)
        Probe unscaled = new Probe(u, true, 0);
        Object[] objects = new Object[8];
        for (int i = 0; i < objects.length; i++) {
          objects[i] = new long[1];
        }
        boolean allMultiples = true;
        for (Object o : objects) {
          allMultiples &= unscaled.address(o) % alignment == 0;
        }
        return allMultiples ? unscaled : new Probe(u, true, Integer.numberOfTrailingZeros(alignment));
      } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
        return null;
      }
    }
  }
}
