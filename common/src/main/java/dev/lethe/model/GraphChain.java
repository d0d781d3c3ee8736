package dev.lethe.model;

import dev.lethe.LetheInputException;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.graph.PreprocessorVertex;
import org.deeplearning4j.nn.conf.preprocessor.ComposableInputPreProcessor;
import org.deeplearning4j.nn.graph.ComputationGraph;

/**
 * A {@link ComputationGraph} that is a chain (one input, one output, every vertex fed by the one before it) as the
 * list of its layers, so it runs as a multi-layer network with the same function and parameters. Preprocessor
 * vertices (a Keras {@code Flatten}) become the next layer's preprocessor. Other graphs take the graph form
 * ({@link GraphForm}).
 */
final class GraphChain {
  private GraphChain() {}

  /**
   * Whether {@code graph} takes this chain form: each vertex, in topological order, a layer or preprocessor fed only
   * by the one before it (graphs with several inputs or outputs too, which {@link #layers} refuses).
   */
  static boolean isChain(ComputationGraph graph) {
    ComputationGraphConfiguration conf = graph.getConfiguration();
    if (conf.getNetworkInputs().size() != 1 || conf.getNetworkOutputs().size() != 1) {
      return true;
    }
    String previous = conf.getNetworkInputs().get(0);
    for (String name : conf.getTopologicalOrderStr()) {
      if (conf.getNetworkInputs().contains(name)) {
        continue;
      }
      List<String> inputs = conf.getVertexInputs().get(name);
      GraphVertex v = conf.getVertices().get(name);
      if (inputs == null || inputs.size() != 1 || !inputs.get(0).equals(previous)
          || !(v instanceof LayerVertex || v instanceof PreprocessorVertex)) {
        return false;
      }
      previous = name;
    }
    return previous.equals(conf.getNetworkOutputs().get(0));
  }

  static List<LayerStack.Entry> layers(ComputationGraph graph, String source) {
    ComputationGraphConfiguration conf = graph.getConfiguration();
    if (conf.getNetworkInputs().size() != 1 || conf.getNetworkOutputs().size() != 1) {
      throw LetheInputException.of("%s: the model has %d inputs and %d outputs; Lethe takes a single-input,"
          + " single-output classifier", source, conf.getNetworkInputs().size(), conf.getNetworkOutputs().size());
    }
    List<LayerStack.Entry> out = new ArrayList<>();
    String previous = conf.getNetworkInputs().get(0);
    InputPreProcessor pending = null;
    for (String name : conf.getTopologicalOrderStr()) {
      if (conf.getNetworkInputs().contains(name)) {
        continue;
      }
      List<String> inputs = conf.getVertexInputs().get(name);
      if (inputs == null || inputs.size() != 1 || !inputs.get(0).equals(previous)) {
        throw LetheInputException.of("%s: vertex '%s' takes %s; Lethe takes graphs that are a chain of layers"
            + " (each fed by the one before it)", source, name, inputs);
      }
      GraphVertex v = conf.getVertices().get(name);
      if (v instanceof PreprocessorVertex pv) {
        pending = compose(pending, pv.getPreProcessor());
      } else if (v instanceof LayerVertex lv) {
        InputPreProcessor pre = compose(pending, lv.getPreProcessor());
        pending = null;
        org.deeplearning4j.nn.conf.layers.Layer layer = lv.getLayerConf().getLayer().clone();
        if (layer.getLayerName() == null) {
          layer.setLayerName(name);
        }
        out.add(new LayerStack.Entry(layer, pre, LayerStack.copy(graph.getLayer(name).paramTable())));
      } else {
        throw LetheInputException.of("%s: vertex '%s' is a %s; Lethe takes graphs that are a chain of layers",
            source, name, v.getClass().getSimpleName());
      }
      previous = name;
    }
    if (!previous.equals(conf.getNetworkOutputs().get(0))) {
      throw LetheInputException.of("%s: the output '%s' is not the end of the chain", source,
          conf.getNetworkOutputs().get(0));
    }
    return out;
  }

  private static InputPreProcessor compose(InputPreProcessor first, InputPreProcessor second) {
    if (first == null) {
      return second;
    }
    return second == null ? first : new ComposableInputPreProcessor(first, second);
  }
}
