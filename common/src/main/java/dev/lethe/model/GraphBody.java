package dev.lethe.model;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.regularization.Regularization;

/**
 * The configuration of a layer that is a whole {@code ComputationGraph} (branches, merges, residual additions) up to
 * the input of its classifier head: the graph's configuration as JSON, its parameters as one flat vector (parameter
 * {@value GraphBodyParams#KEY}, in the graph's own order). A graph that is not a chain runs as a multi-layer network
 * of this layer and its head ({@link GraphForm}), so every method takes it; its forward and backward passes are the
 * graph's own ({@link GraphBodyLayer}). It takes flat rows of {@code nIn} features and gives {@code nOut}
 * activations per row. Regularisation terms of the graph's layers do not apply (the methods use none).
 */
public final class GraphBody extends FeedForwardLayer {
  private static final long serialVersionUID = 1L;

  /** The body's ComputationGraphConfiguration as JSON: one input, one output (the head's input vertex). */
  private String graph;
  private long numParams;

  /** For JSON deserialisation. */
  public GraphBody() {
    super();
  }

  GraphBody(String name, String graph, long numParams, long nIn, long nOut) {
    super();
    setLayerName(name);
    this.graph = graph;
    this.numParams = numParams;
    this.nIn = nIn;
    this.nOut = nOut;
    setActivationFn(new org.nd4j.linalg.activations.impl.ActivationIdentity());
    setRegularization(new java.util.ArrayList<>());
    setRegularizationBias(new java.util.ArrayList<>());
    setGradientNormalization(org.deeplearning4j.nn.conf.GradientNormalization.None);
  }

  /** The body graph's configuration, as JSON. */
  public String getGraph() {
    return graph;
  }

  public void setGraph(String graph) {
    this.graph = graph;
  }

  public long getNumParams() {
    return numParams;
  }

  public void setNumParams(long numParams) {
    this.numParams = numParams;
  }

  @Override
  public org.deeplearning4j.nn.api.Layer instantiate(NeuralNetConfiguration conf,
      Collection<TrainingListener> listeners, int layerIndex, INDArray paramsView, boolean initializeParams,
      DataType networkDataType) {
    GraphBodyLayer layer = new GraphBodyLayer(conf, networkDataType);
    layer.setListeners(listeners);
    layer.setIndex(layerIndex);
    Map<String, INDArray> params = initializer().init(conf, paramsView, initializeParams);
    layer.setParamTable(params);
    layer.setConf(conf);
    return layer;
  }

  @Override
  public ParamInitializer initializer() {
    return GraphBodyParams.INSTANCE;
  }

  @Override
  public InputType getOutputType(int layerIndex, InputType inputType) {
    return InputType.feedForward(nOut);
  }

  @Override
  public InputPreProcessor getPreProcessorForInputType(InputType inputType) {
    return null;
  }

  @Override
  public List<Regularization> getRegularizationByParam(String paramName) {
    return List.of();
  }

  @Override
  public boolean isPretrainParam(String paramName) {
    return false;
  }

  @Override
  public LayerMemoryReport getMemoryReport(InputType inputType) {
    throw new UnsupportedOperationException("no memory report for a graph body");
  }

  @Override
  public GraphBody clone() {
    return (GraphBody) super.clone();
  }
}
