package dev.lethe.model;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The parameters of a {@link GraphBody}: one flat vector, the body graph's parameters in the graph's order. */
final class GraphBodyParams implements ParamInitializer {
  /** The one parameter's name. */
  static final String KEY = "graph";
  static final GraphBodyParams INSTANCE = new GraphBodyParams();

  private GraphBodyParams() {}

  @Override
  public long numParams(NeuralNetConfiguration conf) {
    return numParams(conf.getLayer());
  }

  @Override
  public long numParams(Layer layer) {
    return ((GraphBody) layer).getNumParams();
  }

  @Override
  public List<String> paramKeys(Layer layer) {
    return List.of(KEY);
  }

  @Override
  public List<String> weightKeys(Layer layer) {
    return List.of(KEY);
  }

  @Override
  public List<String> biasKeys(Layer layer) {
    return List.of();
  }

  @Override
  public boolean isWeightParam(Layer layer, String key) {
    return KEY.equals(key);
  }

  @Override
  public boolean isBiasParam(Layer layer, String key) {
    return false;
  }

  /** With {@code initialize}, the body graph's own initialisation (its configuration's seed and weight inits). */
  @Override
  public Map<String, INDArray> init(NeuralNetConfiguration conf, INDArray paramsView, boolean initialize) {
    if (initialize) {
      GraphBody body = (GraphBody) conf.getLayer();
      paramsView.assign(GraphBodyLayer.graph(body, paramsView.dataType(), null).params());
    }
    conf.addVariable(KEY);
    Map<String, INDArray> out = new LinkedHashMap<>();
    out.put(KEY, paramsView.reshape(1, paramsView.length()));
    return out;
  }

  @Override
  public Map<String, INDArray> getGradientsFromFlattened(NeuralNetConfiguration conf, INDArray gradientView) {
    Map<String, INDArray> out = new LinkedHashMap<>();
    out.put(KEY, gradientView.reshape(1, gradientView.length()));
    return out;
  }
}
