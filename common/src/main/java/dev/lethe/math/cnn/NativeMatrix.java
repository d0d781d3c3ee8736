package dev.lethe.math.cnn;

import java.nio.DoubleBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A native f-order matrix (a GEMM operand or result) read and written in double, stored in the GEMM's precision:
 * bulk copies for double, through a reused float array for float.
 */
abstract sealed class NativeMatrix {
  private final INDArray array;

  NativeMatrix(INDArray array) {
    this.array = array;
  }

  static NativeMatrix of(INDArray a) {
    return a.dataType() == DataType.DOUBLE ? new DoubleMatrix(a) : new FloatMatrix(a);
  }

  INDArray array() {
    return array;
  }

  /** Entries {@code [at, at + len)} from {@code src[off..]}. */
  abstract void put(int at, double[] src, int off, int len);

  /** Entries {@code [at, at + len)} into {@code dst[off..]}. */
  abstract void get(int at, double[] dst, int off, int len);

  /** Entries {@code [at, at + len)} from {@code src[off..]}, an array of this matrix's precision. */
  abstract void putRaw(int at, Object src, int off, int len);

  /** Entries {@code [at, at + len)} into {@code dst[off..]}, an array of this matrix's precision. */
  abstract void getRaw(int at, Object dst, int off, int len);

  /** Entries {@code [at, at + len)} from entries {@code [from, from + len)} of {@code src} (same precision). */
  abstract void copy(int at, NativeMatrix src, int from, int len);

  /** Entry {@code at} set to zero. */
  abstract void putZero(int at);

  /** Double precision: bulk copies. */
  static final class DoubleMatrix extends NativeMatrix {
    private final DoubleBuffer b;

    DoubleMatrix(INDArray a) {
      super(a);
      b = a.data().asNioDouble();
    }

    @Override
    void put(int at, double[] src, int off, int len) {
      b.put(at, src, off, len);
    }

    @Override
    void get(int at, double[] dst, int off, int len) {
      b.get(at, dst, off, len);
    }

    @Override
    void copy(int at, NativeMatrix src, int from, int len) {
      b.put(at, ((DoubleMatrix) src).b, from, len);
    }

    @Override
    void putZero(int at) {
      b.put(at, 0.0);
    }

    @Override
    void putRaw(int at, Object src, int off, int len) {
      b.put(at, (double[]) src, off, len);
    }

    @Override
    void getRaw(int at, Object dst, int off, int len) {
      b.get(at, (double[]) dst, off, len);
    }
  }

  /** Single precision: converted through a reused float array. */
  static final class FloatMatrix extends NativeMatrix {
    private final java.nio.FloatBuffer b;
    private float[] tmp = new float[0];

    FloatMatrix(INDArray a) {
      super(a);
      b = a.data().asNioFloat();
    }

    private float[] tmp(int len) {
      if (tmp.length < len) {
        tmp = new float[len];
      }
      return tmp;
    }

    @Override
    void put(int at, double[] src, int off, int len) {
      float[] t = tmp(len);
      for (int i = 0; i < len; i++) {
        t[i] = (float) src[off + i];
      }
      b.put(at, t, 0, len);
    }

    @Override
    void get(int at, double[] dst, int off, int len) {
      float[] t = tmp(len);
      b.get(at, t, 0, len);
      for (int i = 0; i < len; i++) {
        dst[off + i] = t[i];
      }
    }

    @Override
    void copy(int at, NativeMatrix src, int from, int len) {
      b.put(at, ((FloatMatrix) src).b, from, len);
    }

    @Override
    void putZero(int at) {
      b.put(at, 0f);
    }

    @Override
    void putRaw(int at, Object src, int off, int len) {
      b.put(at, (float[]) src, off, len);
    }

    @Override
    void getRaw(int at, Object dst, int off, int len) {
      b.get(at, (float[]) dst, off, len);
    }
  }
}
