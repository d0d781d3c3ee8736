package dev.lethe.model;

import dev.lethe.LetheInputException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A {@link ComputationGraph} that is not a chain (branches, merges, residual additions) as the network the methods
 * run, and back. In its inference form (dropout and weight noise removed; each batch normalisation folded into the
 * dense or convolution layer without activation whose output only it reads, or into the dense or output layer that
 * is its only reader; any other batch normalisation is bad input naming the vertex) the graph is split at the input
 * of its classifier head: the longest chain of layers ending at the output becomes ordinary layers (the softmax
 * output as in {@link InferenceForm}), and everything before it one {@link GraphBody} layer that runs DL4J's own
 * graph passes. {@link #toGraph} writes such a network back as the ComputationGraph it computes.
 */
final class GraphForm {
  private GraphForm() {}

  /** The network computing {@code g}'s inference function with its parameters, in {@code type}. */
  static MultiLayerNetwork of(ComputationGraph g, String source, DataType type) {
    ComputationGraphConfiguration conf = g.getConfiguration().clone();
    if (conf.getNetworkInputs().size() != 1 || conf.getNetworkOutputs().size() != 1) {
      throw LetheInputException.of("%s: the model has %d inputs and %d outputs; Lethe takes a single-input,"
          + " single-output classifier", source, conf.getNetworkInputs().size(), conf.getNetworkOutputs().size());
    }
    Map<String, Map<String, INDArray>> params = new LinkedHashMap<>();
    for (Map.Entry<String, GraphVertex> e : conf.getVertices().entrySet()) {
      if (e.getValue() instanceof LayerVertex lv) {
        Layer l = lv.getLayerConf().getLayer();
        InferenceForm.requireFeedForward(l, source, describe(e.getKey(), l));
        l.setIDropout(null);
        if (l instanceof BaseLayer bl) {
          bl.setWeightNoise(null);
        }
        params.put(e.getKey(), LayerStack.copy(g.getLayer(e.getKey()).paramTable()));
      }
    }
    foldBatchNorms(conf, params, source);
    String out = conf.getNetworkOutputs().get(0);
    if (!(conf.getVertices().get(out) instanceof LayerVertex)) {
      throw LetheInputException.of("%s: not a single-output softmax classifier: its output vertex '%s' is a %s",
          source, out, conf.getVertices().get(out).getClass().getSimpleName());
    }
    // the head: the longest chain of layers ending at the output, each the only reader of the one before
    List<String> tail = new ArrayList<>();
    String cur = out;
    String bodyOut;
    while (true) {
      tail.add(0, cur);
      String prev = conf.getVertexInputs().get(cur).get(0);
      if (!(conf.getVertices().get(prev) instanceof LayerVertex) || readers(conf, prev).size() != 1
          || conf.getVertexInputs().get(prev).size() != 1) {
        bodyOut = prev;
        break;
      }
      cur = prev;
    }
    if (conf.getNetworkInputs().contains(bodyOut)) {
      throw LetheInputException.of("%s: vertices %s do not lead to the output '%s'", source,
          unused(conf, tail), out);
    }
    List<LayerStack.Entry> layers = new ArrayList<>();
    layers.add(body(conf, params, tail, bodyOut, source, type));
    for (String name : tail) {
      LayerVertex lv = (LayerVertex) conf.getVertices().get(name);
      Layer l = lv.getLayerConf().getLayer().clone();
      l.setLayerName(name);
      layers.add(new LayerStack.Entry(l, lv.getPreProcessor(), params.get(name)));
    }
    return LayerStack.build(InferenceForm.softmaxOutput(layers, source), type);
  }

  /** The graph before the head as one layer, with its parameters in the graph's order. */
  private static LayerStack.Entry body(ComputationGraphConfiguration conf, Map<String, Map<String, INDArray>> params,
      List<String> tail, String bodyOut, String source, DataType type) {
    ComputationGraphConfiguration c = conf.clone();
    for (String name : tail) {
      c.getVertices().remove(name);
      c.getVertexInputs().remove(name);
    }
    c.setNetworkOutputs(new ArrayList<>(List.of(bodyOut)));
    markOutputs(c);
    ComputationGraph g = new ComputationGraph(c);
    g.init();
    for (Map.Entry<String, Map<String, INDArray>> e : params.entrySet()) {
      if (c.getVertices().containsKey(e.getKey())) {
        Map<String, INDArray> have = g.getLayer(e.getKey()).paramTable();
        e.getValue().forEach((k, v) -> have.get(k).assign(v.reshape(have.get(k).shape()).castTo(
            have.get(k).dataType())));
      }
    }
    Layer head = ((LayerVertex) conf.getVertices().get(tail.get(0))).getLayerConf().getLayer();
    if (!(head instanceof FeedForwardLayer ff)) {
      throw LetheInputException.of("%s: the classifier head %s reads the graph's branches; it must be a dense"
          + " layer", source, describe(tail.get(0), head));
    }
    GraphBody body = new GraphBody("graph", c.toJson(), g.numParams(), inputSize(c, source), ff.getNIn());
    Map<String, INDArray> p = new LinkedHashMap<>();
    p.put(GraphBodyParams.KEY, g.params().dup().castTo(type));
    return new LayerStack.Entry(body, null, p);
  }

  /** The length of the flat rows the graph reads: from the first layer that reads the input. */
  private static long inputSize(ComputationGraphConfiguration c, String source) {
    String in = c.getNetworkInputs().get(0);
    for (String name : readers(c, in)) {
      if (c.getVertices().get(name) instanceof LayerVertex lv) {
        if (lv.getPreProcessor() instanceof FeedForwardToCnnPreProcessor p) {
          return p.getInputHeight() * p.getInputWidth() * p.getNumChannels();
        }
        Layer l = lv.getLayerConf().getLayer();
        if (lv.getPreProcessor() == null && !(l instanceof ConvolutionLayer) && l instanceof FeedForwardLayer ff) {
          return ff.getNIn();
        }
      }
    }
    throw LetheInputException.of("%s: cannot tell the length of the rows the graph's input '%s' reads (its"
        + " readers %s take no flat rows; build the graph with InputType.feedForward or convolutionalFlat)",
        source, in, readers(c, in));
  }

  private static void foldBatchNorms(ComputationGraphConfiguration conf, Map<String, Map<String, INDArray>> params,
      String source) {
    for (String name : new ArrayList<>(conf.getVertices().keySet())) {
      if (!(conf.getVertices().get(name) instanceof LayerVertex bnv)
          || !(bnv.getLayerConf().getLayer() instanceof BatchNormalization bn)) {
        continue;
      }
      INDArray[] ac = InferenceForm.scaleShift(bn, params.get(name));
      String prev = conf.getVertexInputs().get(name).get(0);
      List<String> after = readers(conf, name);
      LayerVertex before = conf.getVertices().get(prev) instanceof LayerVertex lv ? lv : null;
      LayerVertex next = after.size() == 1 && conf.getVertices().get(after.get(0)) instanceof LayerVertex lv ? lv
          : null;
      if (bnv.getPreProcessor() == null && before != null && readers(conf, prev).size() == 1
          && !conf.getNetworkOutputs().contains(prev) && affineIdentity(before.getLayerConf().getLayer())) {
        LayerStack.Entry e = InferenceForm.scaleOutputs(new LayerStack.Entry(before.getLayerConf().getLayer(),
            before.getPreProcessor(), params.get(prev)), ac[0], ac[1]);
        before.getLayerConf().setLayer(e.layer());
        params.put(prev, e.params());
      } else if (bnv.getPreProcessor() == null && next != null && next.getPreProcessor() == null
          && !conf.getNetworkOutputs().contains(name) && conf.getVertexInputs().get(after.get(0)).size() == 1
          && (next.getLayerConf().getLayer() instanceof DenseLayer
              || next.getLayerConf().getLayer() instanceof OutputLayer)
          && ((FeedForwardLayer) next.getLayerConf().getLayer()).getNIn() == ac[0].length()) {
        LayerStack.Entry e = InferenceForm.scaleInputs(new LayerStack.Entry(next.getLayerConf().getLayer(), null,
            params.get(after.get(0))), ac[0], ac[1]);
        params.put(after.get(0), e.params());
      } else {
        throw LetheInputException.of("%s: vertex %s cannot be folded into its neighbours (it must be the only"
            + " reader of a dense or convolution layer without activation, or the only input of a dense layer)",
            source, describe(name, bn));
      }
      // readers of the batch normalisation read its input instead
      for (List<String> inputs : conf.getVertexInputs().values()) {
        inputs.replaceAll(s -> s.equals(name) ? prev : s);
      }
      conf.getNetworkOutputs().replaceAll(s -> s.equals(name) ? prev : s);
      conf.getVertices().remove(name);
      conf.getVertexInputs().remove(name);
      params.remove(name);
    }
    markOutputs(conf);
  }

  private static boolean affineIdentity(Layer l) {
    return (l instanceof DenseLayer || l instanceof ConvolutionLayer)
        && ((BaseLayer) l).getActivationFn() instanceof ActivationIdentity;
  }

  /** The vertices that read {@code name}'s output. */
  private static List<String> readers(ComputationGraphConfiguration c, String name) {
    List<String> out = new ArrayList<>();
    c.getVertexInputs().forEach((v, inputs) -> {
      if (inputs.contains(name)) {
        out.add(v);
      }
    });
    return out;
  }

  private static List<String> unused(ComputationGraphConfiguration c, List<String> used) {
    List<String> out = new ArrayList<>(c.getVertices().keySet());
    out.removeAll(used);
    return out;
  }

  /** Drops the cached topological order and marks the output layer vertices as the graph builder does. */
  private static void markOutputs(ComputationGraphConfiguration c) {
    c.setTopologicalOrder(null);
    c.setTopologicalOrderStr(null);
    c.getVertices().forEach((name, v) -> {
      if (v instanceof LayerVertex lv) {
        lv.setOutputVertex(c.getNetworkOutputs().contains(name));
      }
    });
  }

  private static String describe(String vertex, Layer l) {
    return "'" + vertex + "' (" + l.getClass().getSimpleName() + ")";
  }

  /** Whether {@code net} is a graph run as a network: its first layer a {@link GraphBody}. */
  static boolean isGraph(MultiLayerNetwork net) {
    return net.getnLayers() > 0 && net.getLayerWiseConfigurations().getConf(0).getLayer() instanceof GraphBody;
  }

  /**
   * The ComputationGraph that {@code net} (a graph run as a network, {@link #isGraph}) computes: the body's vertices
   * and the head's layers as a chain after them, with the network's current parameters.
   */
  static ComputationGraph toGraph(MultiLayerNetwork net) {
    MultiLayerConfiguration mc = net.getLayerWiseConfigurations();
    GraphBody body = (GraphBody) mc.getConf(0).getLayer();
    ComputationGraphConfiguration c = ComputationGraphConfiguration.fromJson(body.getGraph());
    c.setDataType(net.params().dataType());
    String prev = c.getNetworkOutputs().get(0);
    List<String> names = new ArrayList<>();
    for (int i = 1; i < net.getnLayers(); i++) {
      NeuralNetConfiguration lc = mc.getConf(i).clone();
      String name = lc.getLayer().getLayerName();
      if (name == null || name.isBlank() || c.getVertices().containsKey(name)) {
        name = "head-" + i;
        lc.getLayer().setLayerName(name);
      }
      c.getVertices().put(name, new LayerVertex(lc, mc.getInputPreProcess(i)));
      c.getVertexInputs().put(name, new ArrayList<>(List.of(prev)));
      names.add(name);
      prev = name;
    }
    c.setNetworkOutputs(new ArrayList<>(List.of(prev)));
    markOutputs(c);
    ComputationGraph g = new ComputationGraph(c);
    g.init();
    ComputationGraph inner = ((GraphBodyLayer) net.getLayer(0)).graph();
    for (org.deeplearning4j.nn.api.Layer l : inner.getLayers()) {
      copy(l.paramTable(), g.getLayer(l.conf().getLayer().getLayerName()).paramTable());
    }
    for (int i = 0; i < names.size(); i++) {
      copy(net.getLayer(i + 1).paramTable(), g.getLayer(names.get(i)).paramTable());
    }
    return g;
  }

  private static void copy(Map<String, INDArray> from, Map<String, INDArray> to) {
    from.forEach((k, v) -> to.get(k).assign(v.reshape(to.get(k).shape())));
  }
}
