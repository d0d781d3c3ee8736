package dev.lethe.model;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.Adam;

/**
 * A network as an ordered list of layers (configuration, input preprocessor, parameters by name): the form in which
 * an imported model is rewritten ({@link InferenceForm}) before it becomes the {@link MultiLayerNetwork} the methods
 * run.
 */
final class LayerStack {
  /** One layer: its configuration, the preprocessor before it (or null) and its parameters by DL4J's names. */
  record Entry(Layer layer, InputPreProcessor pre, Map<String, INDArray> params) {
    /** The layer's name for messages: its own name, else its position. */
    String describe(int index) {
      String name = layer.getLayerName();
      return "layer " + index + (name != null && !name.isBlank() ? " '" + name + "'" : "") + " ("
          + layer.getClass().getSimpleName() + ")";
    }
  }

  private LayerStack() {}

  /** The layers of {@code net}, in order, with copies of their parameters. */
  static List<Entry> of(MultiLayerNetwork net) {
    List<Entry> out = new ArrayList<>();
    for (int i = 0; i < net.getnLayers(); i++) {
      out.add(new Entry(net.getLayerWiseConfigurations().getConf(i).getLayer().clone(),
          net.getLayerWiseConfigurations().getInputPreProcess(i), copy(net.getLayer(i).paramTable())));
    }
    return out;
  }

  static Map<String, INDArray> copy(Map<String, INDArray> params) {
    Map<String, INDArray> out = new LinkedHashMap<>();
    params.forEach((k, v) -> out.put(k, v.dup()));
    return out;
  }

  /**
   * A network of {@code layers} with their parameters, in {@code type}. Every trainable layer gets Adam (the
   * repairs set its learning rate), whatever optimiser the file recorded.
   */
  static MultiLayerNetwork build(List<Entry> layers, DataType type) {
    // a fixed seed: the builder's default is the clock, which would give every import another fingerprint
    NeuralNetConfiguration.ListBuilder b = new NeuralNetConfiguration.Builder().seed(0).dataType(type)
        .updater(new Adam(1e-3)).list();
    for (int i = 0; i < layers.size(); i++) {
      Layer l = layers.get(i).layer().clone();
      if (l instanceof BaseLayer bl) {
        bl.setIUpdater(new Adam(1e-3));
        bl.setBiasUpdater(null);
      }
      b.layer(i, l);
      if (layers.get(i).pre() != null) {
        b.inputPreProcessor(i, layers.get(i).pre());
      }
    }
    MultiLayerConfiguration conf = b.build();
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init();
    for (int i = 0; i < layers.size(); i++) {
      Map<String, INDArray> want = layers.get(i).params();
      Map<String, INDArray> have = net.getLayer(i).paramTable();
      if (!have.keySet().equals(want.keySet())) {
        throw new IllegalStateException(layers.get(i).describe(i) + ": parameters " + have.keySet() + " after"
            + " rebuilding, " + want.keySet() + " in the file");
      }
      for (Map.Entry<String, INDArray> e : want.entrySet()) {
        INDArray target = have.get(e.getKey());
        target.assign(e.getValue().reshape(target.shape()).castTo(type));
      }
    }
    return net;
  }
}
