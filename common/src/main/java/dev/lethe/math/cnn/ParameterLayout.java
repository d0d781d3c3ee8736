package dev.lethe.math.cnn;

import java.nio.DoubleBuffer;
import java.util.Map;
import java.util.Optional;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Where each layer's parameters sit in DL4J's flattened parameter vector, and reading that vector and writing the
 * flattened gradient view in this layout. A network's layout never changes, so the index maps are kept per network
 * and layer: the instances an optimiser builds after every step do not probe the layout again.
 */
final class ParameterLayout {
  private static final Map<MultiLayerNetwork, Map<Integer, int[]>> INDEX_MAPS =
      java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

  private ParameterLayout() {}

  /**
   * Every parameter of {@code net} in double, in DL4J's flattened order: read straight from the contiguous float or
   * double vector (exact), else from one cast of it.
   */
  static double[] flatParams(MultiLayerNetwork net) {
    INDArray p = net.params();
    if (isFlatVector(p)) {
      double[] v = new double[(int) p.length()];
      NativeMatrix.of(p).get((int) p.offset(), v, 0, v.length);
      return v;
    }
    return (p.dataType() == DataType.DOUBLE ? p : p.castTo(DataType.DOUBLE)).toDoubleVector();
  }

  /**
   * Whether {@code a} is a float or double vector whose elements lie in order in its buffer from {@code a.offset()}
   * on (element-wise stride 1), so it can be read and written through the buffer's NIO view, as the flattened
   * parameter and gradient vectors of a network are.
   */
  static boolean isFlatVector(INDArray a) {
    return (a.ordering() == 'c' || a.isVector()) && a.elementWiseStride() == 1
        && (a.dataType() == DataType.FLOAT || a.dataType() == DataType.DOUBLE);
  }

  /**
   * For layer {@code layer} of {@code net}, the flattened-parameter index of each entry of {@code W} (in DL4J's
   * c-order shape) and then of {@code b}, read off DL4J's own gradient views of an index-valued probe array (the
   * gradient view has the parameters' layout); empty when the layer's parameters are not exactly W and b.
   */
  static Optional<int[]> layerMap(MultiLayerNetwork net, int layer) {
    Map<Integer, int[]> known = INDEX_MAPS.computeIfAbsent(net, k -> new java.util.concurrent.ConcurrentHashMap<>());
    int[] cached = known.get(layer);
    if (cached != null) {
      return cached.length == 0 ? Optional.empty() : Optional.of(cached);
    }
    MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
    long offset = 0;
    for (int l = 0; l < layer; l++) {
      offset += conf.getConf(l).getLayer().initializer().numParams(conf.getConf(l));
    }
    org.deeplearning4j.nn.conf.NeuralNetConfiguration lc = conf.getConf(layer);
    long n = lc.getLayer().initializer().numParams(lc);
    INDArray probe = Nd4j.create(DataType.DOUBLE, new long[] {1, n}, 'f');
    probe.assign(Nd4j.linspace(offset, offset + n - 1, n, DataType.DOUBLE).reshape(1, n));
    Map<String, INDArray> views = lc.getLayer().initializer().getGradientsFromFlattened(lc, probe);
    int[] map = new int[0];
    if (views.keySet().equals(java.util.Set.of("W", "b"))) {
      double[] w = views.get("W").dup('c').reshape(-1).toDoubleVector();
      double[] b = views.get("b").dup('c').reshape(-1).toDoubleVector();
      map = new int[w.length + b.length];
      for (int j = 0; j < w.length; j++) {
        map[j] = (int) Math.round(w[j]);
      }
      for (int j = 0; j < b.length; j++) {
        map[w.length + j] = (int) Math.round(b[j]);
      }
    }
    known.put(layer, map);
    return map.length == 0 ? Optional.empty() : Optional.of(map);
  }

  /** Layer {@code layer}'s parameters: W in DL4J's c-order shape, then b ({@code flat}: all, in double). */
  static Optional<double[]> layerParams(MultiLayerNetwork net, int layer, double[] flat) {
    return layerMap(net, layer).map(map -> {
      double[] v = new double[map.length];
      for (int j = 0; j < v.length; j++) {
        v[j] = flat[map[j]];
      }
      return v;
    });
  }

  /**
   * Writes {@code flat} into {@code net}'s flattened gradient view and returns the view; {@code floatCopy} (of
   * {@code flat}'s length, or null) is reused for a float view's conversion.
   */
  static INDArray writeGradient(MultiLayerNetwork net, double[] flat, float[] floatCopy) {
    if (net.getFlattenedGradients() == null) {
      net.initGradientsView();
    }
    INDArray g = net.getFlattenedGradients();
    if (isFlatVector(g) && g.length() == flat.length) {
      // straight into the view's memory (it is contiguous), without a temporary array and a cast op
      long offset = g.offset();
      if (g.dataType() == DataType.DOUBLE) {
        DoubleBuffer b = g.data().asNioDouble();
        b.position((int) offset);
        b.put(flat);
      } else {
        float[] f = floatCopy != null ? floatCopy : new float[flat.length];
        for (int j = 0; j < flat.length; j++) {
          f[j] = (float) flat[j];
        }
        java.nio.FloatBuffer b = g.data().asNioFloat();
        b.position((int) offset);
        b.put(f);
      }
      return g;
    }
    g.assign(Nd4j.create(flat, g.shape(), 'c').castTo(g.dataType()));
    return g;
  }
}
