package dev.lethe.model;

import java.util.LinkedHashMap;
import java.util.Map;
import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.AbstractLayer;
import org.deeplearning4j.nn.layers.LayerHelper;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A {@link GraphBody} at run time: DL4J's own {@code ComputationGraph} forward pass ({@code feedForward}, keeping the
 * layers' inputs in training mode) and backward pass ({@code backpropGradient} from the error at the body's output),
 * on parameters that are a view of the enclosing network's flat parameter vector. The graph runs outside any
 * workspace (its arrays are detached), and its results are moved into the enclosing network's workspaces. It is the
 * first layer of its network, so it gives no error for its input.
 */
final class GraphBodyLayer extends AbstractLayer<GraphBody> {
  private INDArray paramsView;
  private INDArray gradientView;
  private ComputationGraph graph;
  private String outputName;

  GraphBodyLayer(NeuralNetConfiguration conf, DataType dataType) {
    super(conf, dataType);
  }

  /**
   * The body's graph in {@code type}: with {@code params} (a row vector) as its parameter view, else freshly
   * initialised. It never uses workspaces or caches.
   */
  static ComputationGraph graph(GraphBody body, DataType type, INDArray params) {
    ComputationGraphConfiguration c = ComputationGraphConfiguration.fromJson(body.getGraph());
    c.setDataType(type);
    c.setTrainingWorkspaceMode(WorkspaceMode.NONE);
    c.setInferenceWorkspaceMode(WorkspaceMode.NONE);
    c.setCacheMode(CacheMode.NONE);
    ComputationGraph g = new ComputationGraph(c);
    try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
      if (params == null) {
        g.init();
      } else {
        g.init(params, false);
      }
    }
    return g;
  }

  /** The body's graph (its parameters a view of this layer's). */
  ComputationGraph graph() {
    return graph;
  }

  @Override
  public void setParamTable(Map<String, INDArray> paramTable) {
    setParamsViewArray(paramTable.get(GraphBodyParams.KEY));
  }

  @Override
  public Map<String, INDArray> paramTable() {
    return paramTable(false);
  }

  @Override
  public Map<String, INDArray> paramTable(boolean backpropParamsOnly) {
    Map<String, INDArray> out = new LinkedHashMap<>();
    out.put(GraphBodyParams.KEY, paramsView);
    return out;
  }

  @Override
  public INDArray params() {
    return paramsView;
  }

  @Override
  public INDArray getParam(String param) {
    return GraphBodyParams.KEY.equals(param) ? paramsView : null;
  }

  @Override
  public void setParam(String key, INDArray val) {
    if (!GraphBodyParams.KEY.equals(key)) {
      throw new IllegalArgumentException("a graph body has one parameter, '" + GraphBodyParams.KEY + "'");
    }
    paramsView.assign(val.reshape(paramsView.shape()));
  }

  @Override
  public void setParams(INDArray params) {
    paramsView.assign(params.reshape(paramsView.shape()));
  }

  @Override
  public void setParamsViewArray(INDArray params) {
    INDArray view = params.reshape(1, params.length());
    if (paramsView != null && graph != null && view == paramsView) {
      return;
    }
    paramsView = view;
    graph = graph(layerConf(), dataType, paramsView);
    outputName = graph.getConfiguration().getNetworkOutputs().get(0);
    if (gradientView != null) {
      graph.initGradientsView();
    }
  }

  @Override
  public long numParams() {
    return paramsView.length();
  }

  @Override
  public long numParams(boolean backwards) {
    return numParams();
  }

  @Override
  public INDArray getGradientsViewArray() {
    return gradientView;
  }

  @Override
  public void setBackpropGradientsViewArray(INDArray gradients) {
    gradientView = gradients.reshape(1, gradients.length());
    try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
      graph.initGradientsView();
    }
  }

  @Override
  public INDArray activate(boolean training, LayerWorkspaceMgr mgr) {
    assertInputSet(false);
    INDArray out;
    try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
      INDArray x = input.dup();
      out = graph.feedForward(new INDArray[] {x}, training, false).get(outputName);
    }
    return mgr.leverageTo(ArrayType.ACTIVATIONS, out);
  }

  @Override
  public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
    try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
      graph.backpropGradient(epsilon.dup());
      gradientView.assign(graph.getFlattenedGradients().reshape(gradientView.shape()));
    }
    Gradient g = new DefaultGradient(gradientView);
    g.gradientForVariable().put(GraphBodyParams.KEY, gradientView);
    return new Pair<>(g, null);
  }

  @Override
  public boolean isPretrainLayer() {
    return false;
  }

  @Override
  public void clearNoiseWeightParams() {
    // no weight noise: the body's layers are in their inference form
  }

  @Override
  public LayerHelper getHelper() {
    return null;
  }

  @Override
  public double calcRegularizationScore(boolean backpropOnlyParams) {
    return 0;
  }

  @Override
  public Type type() {
    return Type.FEED_FORWARD;
  }

  @Override
  public void clear() {
    super.clear();
    if (graph != null) {
      graph.clearLayersStates();
    }
  }
}
