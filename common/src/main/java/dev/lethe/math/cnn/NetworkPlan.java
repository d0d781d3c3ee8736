package dev.lethe.math.cnn;

import dev.lethe.data.ExampleSet;
import dev.lethe.math.LogLikelihood;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * A network as the fast path runs it: its layers as ops on a channel-major group of images ({@code [c][image][y][x]}),
 * from the input's shape to the logits. {@link #of} reads the plan off a DL4J network (empty for a network of
 * unsupported layers, see {@link FastCnn}); a convolution followed by 2x2 max pooling becomes one fused op.
 *
 * @param ops the ops, in order; the last yields the logits
 * @param height the input images' height
 * @param width their width
 * @param channels their channels
 * @param numClasses the classes (the logits per image)
 */
record NetworkPlan(List<LayerOp> ops, int height, int width, int channels, int numClasses) {
  /**
   * The plan of {@code net} with its parameters in double, the convolutions' GEMMs in {@code gemmType}; empty when a
   * layer is not of a supported kind.
   */
  static Optional<NetworkPlan> of(MultiLayerNetwork net, DataType gemmType) {
    MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
    if (!(conf.getInputPreProcess(0) instanceof FeedForwardToCnnPreProcessor pre)) {
      return Optional.empty();
    }
    int h = (int) pre.getInputHeight();
    int w = (int) pre.getInputWidth();
    int c = (int) pre.getNumChannels();
    int height = h;
    int width = w;
    int channels = c;
    boolean flat = false;
    List<LayerOp> ops = new ArrayList<>();
    int n = net.getnLayers();
    // every parameter in double, from one cast of the flattened vector (not one per array)
    double[] params = ParameterLayout.flatParams(net);
    for (int i = 0; i < n - 1; i++) {
      if (i > 0 && conf.getInputPreProcess(i) != null) {
        return Optional.empty();
      }
      Layer l = conf.getConf(i).getLayer();
      if (!flat && l instanceof ConvolutionLayer cl && cl.getClass() == ConvolutionLayer.class) {
        Optional<double[]> wb = ParameterLayout.layerParams(net, i, params);
        Optional<ConvOp> op = wb.isEmpty() ? Optional.empty() : ConvOp.of(i, cl, wb.get(), h, w, c, gemmType);
        if (op.isEmpty()) {
          return Optional.empty();
        }
        ops.add(op.get());
        h = op.get().outH;
        w = op.get().outW;
        c = op.get().cOut;
      } else if (!flat && l instanceof SubsamplingLayer sl && sl.getClass() == SubsamplingLayer.class) {
        Optional<PoolOp> op = PoolOp.of(ops.size(), sl, h, w, c);
        if (op.isEmpty()) {
          return Optional.empty();
        }
        ops.add(op.get());
        h = op.get().outH();
        w = op.get().outW();
      } else if (!flat && l instanceof GlobalPoolingLayer gl) {
        boolean max = gl.getPoolingType() == PoolingType.MAX;
        int[] dims = gl.getPoolingDimensions();
        if (!(max || gl.getPoolingType() == PoolingType.AVG) || !gl.isCollapseDimensions()
            || !(dims == null || java.util.Arrays.equals(dims, new int[] {2, 3}))) {
          return Optional.empty();
        }
        ops.add(new GlobalPoolOp(h * w, c, max));
        flat = true;
      } else if (flat && l instanceof DenseLayer dl && dl.getClass() == DenseLayer.class) {
        Optional<Boolean> relu = reluOrIdentity(dl.getActivationFn());
        if (relu.isEmpty() || dl.getNIn() != c) {
          return Optional.empty();
        }
        Optional<double[]> wb = ParameterLayout.layerParams(net, i, params);
        if (wb.isEmpty()) {
          return Optional.empty();
        }
        ops.add(DenseOp.of(i, wb.get(), c, (int) dl.getNOut(), relu.get()));
        c = (int) dl.getNOut();
      } else {
        return Optional.empty();
      }
    }
    Layer last = conf.getConf(n - 1).getLayer();
    if (!flat || !(last instanceof OutputLayer ol) || ol.getNIn() != c || n < 2) {
      return Optional.empty();
    }
    LogLikelihood.requireSoftmaxOutput(net);
    int k = (int) ol.getNOut();
    Optional<double[]> wb = ParameterLayout.layerParams(net, n - 1, params);
    if (wb.isEmpty()) {
      return Optional.empty();
    }
    ops.add(DenseOp.of(n - 1, wb.get(), c, k, false));
    // a convolution followed by 2x2 max pooling runs as one op
    for (int i = ops.size() - 2; i >= 0; i--) {
      if (ops.get(i) instanceof ConvOp conv && ops.get(i + 1) instanceof PoolOp pool && pool.max2x2()) {
        ops.set(i, new ConvPoolOp(conv, pool));
        ops.remove(i + 1);
      }
    }
    return Optional.of(new NetworkPlan(List.copyOf(ops), height, width, channels, k));
  }

  /** The logits of rows {@code [from, to)} of {@code s} as a zero-padded group of {@code group} images. */
  double[] forward(ExampleSet s, int from, int to, int group, Workspace ws) {
    double[] a = input(s, from, to, group);
    for (LayerOp op : ops) {
      a = op.forward(a, group, ws, null);
    }
    return a;
  }

  /**
   * The input of the output layer (the penultimate-layer embedding) of rows {@code [from, to)} of {@code s}, as a
   * zero-padded group of {@code group} images: {@code group} rows of {@link #embeddingSize()} values.
   */
  double[] embed(ExampleSet s, int from, int to, int group, Workspace ws) {
    double[] a = input(s, from, to, group);
    for (int i = 0; i < ops.size() - 1; i++) {
      a = ops.get(i).forward(a, group, ws, null);
    }
    return a;
  }

  /** The length of an image's penultimate-layer embedding: the output layer's input size. */
  int embeddingSize() {
    return ((DenseOp) ops.get(ops.size() - 1)).nIn();
  }

  /** Forward and backward pass of rows [from, to) as a group of {@code group} images (padded rows: zero loss). */
  GradientTape backprop(ExampleSet s, int from, int to, int group, boolean perExample, Workspace ws) {
    return backprop(s, from, to, group, new GradientTape(ops.size(), perExample, group), ws);
  }

  /**
   * Forward and backward pass of rows [from, to) as a group of {@code group} images, each image's loss gradient
   * dotted with {@code projection}'s direction ({@link GradientTape#dots}) instead of recorded.
   */
  GradientTape backprop(ExampleSet s, int from, int to, int group, Projection projection, Workspace ws) {
    return backprop(s, from, to, group, new GradientTape(ops.size(), projection, group), ws);
  }

  private GradientTape backprop(ExampleSet s, int from, int to, int group, GradientTape t, Workspace ws) {
    double[] a = input(s, from, to, group);
    for (int i = 0; i < ops.size(); i++) {
      t.inputs[i] = a;
      a = ops.get(i).forward(a, group, ws, t.at(i));
      t.outputs[i] = a;
    }
    // d(-log softmax(z)_y)/dz = softmax(z) - onehot(y); zero for the padding rows
    int[] labels = s.labels();
    double[] d = new double[group * numClasses];
    for (int r = 0; r < to - from; r++) {
      int base = r * numClasses;
      double max = Double.NEGATIVE_INFINITY;
      for (int j = 0; j < numClasses; j++) {
        max = Math.max(max, a[base + j]);
      }
      double sum = 0;
      for (int j = 0; j < numClasses; j++) {
        d[base + j] = Math.exp(a[base + j] - max);
        sum += d[base + j];
      }
      for (int j = 0; j < numClasses; j++) {
        d[base + j] /= sum;
      }
      int y = labels[from + r];
      double logp = a[base + y] - max - Math.log(sum);
      t.loss -= logp;
      if (t.logLik != null) {
        t.logLik[r] = logp;
      }
      d[base + y] -= 1.0;
    }
    for (int i = ops.size() - 1; i >= 0; i--) {
      d = ops.get(i).backward(d, group, ws, t.at(i), t.inputs[i], t.outputs[i], i > 0);
    }
    return t;
  }

  void checkFeatures(ExampleSet s) {
    int d = height * width * channels;
    if (s.numFeatures() != d) {
      throw new IllegalArgumentException("the network takes " + d + " features per row, the rows have "
          + s.numFeatures());
    }
  }

  /** Rows {@code [from, to)} as a channel-major group of {@code group} images (zero-padded). */
  double[] input(ExampleSet s, int from, int to, int group) {
    int hw = height * width;
    double[] dst = new double[group * hw * channels];
    float[][] f = s.features();
    for (int r = from; r < to; r++) {
      float[] row = f[r];
      int g = r - from;
      for (int ch = 0; ch < channels; ch++) {
        int o = (ch * group + g) * hw;
        for (int p = 0; p < hw; p++) {
          dst[o + p] = row[ch * hw + p];
        }
      }
    }
    return dst;
  }

  static Optional<Boolean> reluOrIdentity(IActivation a) {
    if (a instanceof ActivationIdentity) {
      return Optional.of(false);
    }
    if (a instanceof ActivationReLU r && r.equals(new ActivationReLU())) {
      return Optional.of(true);
    }
    return Optional.empty();
  }
}
