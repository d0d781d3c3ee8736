package dev.lethe.math.cnn.vector;

/**
 * A kernel's weights at an index of a slightly longer array where they start on a vector boundary (see {@link
 * ArrayAlignment}), moved to a new array when a garbage collection has moved the old one off it. An array is never
 * written after it is published, so threads that read the weights while another one moves them read the same values.
 */
public final class AlignedWeights {
  /** A weights array and the index of the first weight. */
  public record Placed(double[] array, int offset) {}

  private final int length;
  private final int bytes;
  private volatile Placed placed;

  /** Zero weights of {@code length}, to start at multiples of {@code bytes} (a power of two from 8 to 4096). */
  public AlignedWeights(int length, int bytes) {
    this.length = length;
    this.bytes = bytes;
    this.placed = place(new double[length], 0);
  }

  /** The number of weights. */
  public int length() {
    return length;
  }

  /** Replaces the weights with {@code values} (of {@link #length()}). */
  public void set(double[] values) {
    if (values.length != length) {
      throw new IllegalArgumentException(values.length + " weights for " + length);
    }
    placed = place(values, 0);
  }

  /** The weights, aligned unless this JVM does not tell where arrays are or a collection moved them just now. */
  public Placed get() {
    Placed p = placed;
    int at = ArrayAlignment.alignedIndex(p.array(), bytes);
    if (at >= 0 && at != p.offset()) {
      p = place(p.array(), p.offset());
      placed = p;
    }
    return p;
  }

  private Placed place(double[] from, int offset) {
    double[] a = new double[length + bytes / Double.BYTES - 1];
    int at = Math.max(0, ArrayAlignment.alignedIndex(a, bytes));
    System.arraycopy(from, offset, a, at, length);
    return new Placed(a, at);
  }
}
