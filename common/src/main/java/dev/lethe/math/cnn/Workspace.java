package dev.lethe.math.cnn;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

/** Native f-order matrices and im2col arrays reused across groups, keyed by their shape. */
final class Workspace {
  /** Idle workspaces, reused by later calls (an EWC update or training takes hundreds of small steps). */
  private static final java.util.concurrent.ConcurrentLinkedDeque<Workspace> IDLE =
      new java.util.concurrent.ConcurrentLinkedDeque<>();
  /** At most this many idle workspaces are kept (one per core and one more; each holds a group's arrays). */
  private static final int MAX_IDLE = Runtime.getRuntime().availableProcessors() + 1;

  private final Map<List<?>, NativeMatrix> arrays = new HashMap<>();
  private final Map<List<?>, double[]> heap = new HashMap<>();
  private final Map<List<?>, float[]> floatHeap = new HashMap<>();
  private final Map<List<?>, NativeMatrix> owned = new HashMap<>();

  /** An idle workspace, or a new one. */
  static Workspace acquire() {
    Workspace w = IDLE.pollFirst();
    return w != null ? w : new Workspace();
  }

  static void release(Workspace w) {
    if (IDLE.size() < MAX_IDLE) {
      IDLE.offerFirst(w);
    }
  }

  /**
   * A reused heap array of {@code size} doubles for the user {@code key} (an op's role and position: no two
   * arrays of one group's pass share a key), holding whatever that user left in it (zeros when new). Reuse keeps
   * the large per-group arrays out of the garbage collector (most are humongous objects for G1).
   */
  double[] buf(List<Object> key, int size) {
    return heap.computeIfAbsent(java.util.List.of(key, size), k -> new double[size]);
  }

  /** As {@link #buf}, of floats. */
  float[] floats(List<Object> key, int size) {
    return floatHeap.computeIfAbsent(java.util.List.of(key, size), k -> new float[size]);
  }

  /** {@link #buf} cleared to zero. */
  double[] zeroed(List<Object> key, int size) {
    double[] b = buf(key, size);
    java.util.Arrays.fill(b, 0.0);
    return b;
  }

  /**
   * A reused native f-order matrix [rows, cols] of {@code type} and {@code role} (the role in a convolution: 1 its
   * output or output gradient, 2 the im2col gradient, 3-5 the per-example operands, 6 a projection's
   * product), with whatever its last user
   * left in it.
   */
  NativeMatrix matrix(DataType type, int rows, int cols, int role) {
    return arrays.computeIfAbsent(List.of(type, rows, cols, role), k -> NativeMatrix.of(Nd4j.createUninitialized(type,
        new long[] {rows, cols}, 'f')));
  }

  /**
   * The native f-order matrix [rows, cols] of {@code type} of the user {@code key} (an op's role, position and
   * group size: no two matrices of one group's pass share a key), zero when new and otherwise as its user left it.
   */
  NativeMatrix zeroMatrix(DataType type, List<Object> key, int rows, int cols) {
    return owned.computeIfAbsent(List.of(type, key, rows, cols), k -> NativeMatrix.of(Nd4j.create(type,
        new long[] {rows, cols}, 'f')));
  }
}
