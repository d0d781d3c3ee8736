package dev.lethe.model;

import dev.lethe.LetheInputException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.LossLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.BaseRecurrentLayer;
import org.deeplearning4j.nn.conf.layers.RnnLossLayer;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.recurrent.Bidirectional;
import org.deeplearning4j.nn.conf.layers.recurrent.LastTimeStep;
import org.deeplearning4j.nn.conf.layers.recurrent.TimeDistributed;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.impl.LossMCXENT;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * An imported classifier rewritten into the function it computes at inference, in the form the methods need:
 * dropout removed (it is the identity at inference); each batch normalisation folded, with its running mean and
 * variance, into the affine layer before it (a dense or convolution layer without activation) or, on dense
 * activations, into the dense or output layer after it, so the network computes the same function without a layer
 * whose training-mode gradient differs from the model's; and the softmax output as one output layer with
 * cross-entropy loss (a Keras {@code Dense(activation='softmax')} imports as a dense layer followed by a loss
 * layer). Anything that is not a single-output softmax classifier, or a batch normalisation that cannot be folded, is
 * bad input naming the layer.
 */
final class InferenceForm {
  private InferenceForm() {}

  static List<LayerStack.Entry> of(List<LayerStack.Entry> in, String source) {
    List<LayerStack.Entry> layers = new ArrayList<>();
    for (int i = 0; i < in.size(); i++) {
      LayerStack.Entry e = in.get(i);
      if (e.layer() instanceof DropoutLayer) {
        if (e.pre() != null && i + 1 < in.size()) {
          throw LetheInputException.of("%s: %s has an input preprocessor; cannot remove it", source,
              e.describe(i));
        }
        continue;
      }
      requireFeedForward(e.layer(), source, e.describe(i));
      Layer l = e.layer().clone();
      l.setIDropout(null);
      layers.add(new LayerStack.Entry(l, e.pre(), e.params()));
    }
    layers = foldBatchNorms(layers, source);
    return softmaxOutput(layers, source);
  }

  /**
   * Refuses recurrent layers (LSTM and the other RNNs, their wrappers and outputs): Lethe feeds each example as one
   * flat row of features, and a recurrent layer reads a sequence ({@code [examples, features, time steps]}).
   *
   * @param what names the layer in the message
   */
  static void requireFeedForward(Layer l, String source, String what) {
    if (l instanceof BaseRecurrentLayer || l instanceof LastTimeStep || l instanceof Bidirectional
        || l instanceof RnnOutputLayer || l instanceof RnnLossLayer || l instanceof TimeDistributed) {
      String inner = l instanceof org.deeplearning4j.nn.conf.layers.wrapper.BaseWrapperLayer w
          ? " wrapping " + w.getUnderlying().getClass().getSimpleName() : "";
      throw LetheInputException.of("%s: %s%s is a recurrent layer; Lethe feeds each example as one flat row of"
          + " features and takes feed-forward classifiers (dense, convolution, pooling, batch normalisation,"
          + " dropout, and graphs of them)", source, what, inner);
    }
  }

  private static List<LayerStack.Entry> foldBatchNorms(List<LayerStack.Entry> layers, String source) {
    List<LayerStack.Entry> out = new ArrayList<>(layers);
    for (int i = 0; i < out.size(); i++) {
      if (!(out.get(i).layer() instanceof BatchNormalization bn)) {
        continue;
      }
      LayerStack.Entry e = out.get(i);
      INDArray[] ac = scaleShift(bn, e.params());
      LayerStack.Entry before = i > 0 ? out.get(i - 1) : null;
      LayerStack.Entry after = i + 1 < out.size() ? out.get(i + 1) : null;
      if (e.pre() == null && before != null && isAffine(before.layer()) && identity(before.layer())) {
        out.set(i - 1, scaleOutputs(before, ac[0], ac[1]));
      } else if (after != null && after.pre() == null && e.pre() == null && denseOrOutput(after.layer())
          && ac[0].length() == ((org.deeplearning4j.nn.conf.layers.FeedForwardLayer) after.layer()).getNIn()) {
        out.set(i + 1, scaleInputs(after, ac[0], ac[1]));
      } else {
        throw LetheInputException.of("%s: %s cannot be folded into its neighbours (it must follow a dense or"
            + " convolution layer without activation, or precede a dense layer)", source, e.describe(i));
      }
      out.remove(i);
      i--;
    }
    return out;
  }

  /** The per-feature scale a and shift c of a batch normalisation at inference: y = a x + c. */
  static INDArray[] scaleShift(BatchNormalization bn, Map<String, INDArray> p) {
    INDArray mean = p.get(BatchNormalizationParamInitializer.GLOBAL_MEAN).castTo(
        org.nd4j.linalg.api.buffer.DataType.DOUBLE).reshape(-1);
    // DL4J's inference: std = sqrt(var + eps), var stored as such or as log10 of its square root
    INDArray var;
    if (p.containsKey(BatchNormalizationParamInitializer.GLOBAL_LOG_STD)) {
      INDArray s = Transforms.pow(Nd4j.valueArrayOf(mean.shape(), 10.0).castTo(mean.dataType()), p.get(
          BatchNormalizationParamInitializer.GLOBAL_LOG_STD).castTo(mean.dataType()).reshape(-1), true);
      var = s.mul(s);
    } else {
      var = p.get(BatchNormalizationParamInitializer.GLOBAL_VAR).castTo(mean.dataType()).reshape(-1);
    }
    INDArray std = Transforms.sqrt(var.add(bn.getEps()), true);
    INDArray gamma = bn.isLockGammaBeta() ? Nd4j.valueArrayOf(mean.shape(), bn.getGamma()).castTo(mean.dataType())
        : p.get(BatchNormalizationParamInitializer.GAMMA).castTo(mean.dataType()).reshape(-1);
    INDArray beta = bn.isLockGammaBeta() ? Nd4j.valueArrayOf(mean.shape(), bn.getBeta()).castTo(mean.dataType())
        : p.get(BatchNormalizationParamInitializer.BETA).castTo(mean.dataType()).reshape(-1);
    INDArray a = gamma.div(std);
    INDArray c = beta.sub(mean.mul(a));
    return new INDArray[] {a, c};
  }

  /**
   * The layer before: each output j becomes a_j z_j + c_j (weights and bias of output j scaled, c_j added). A layer
   * without bias (as often before a batch normalisation) gets one.
   */
  static LayerStack.Entry scaleOutputs(LayerStack.Entry e, INDArray a, INDArray c) {
    Map<String, INDArray> p = new LinkedHashMap<>(e.params());
    INDArray w = p.get("W").castTo(a.dataType());
    INDArray b = p.containsKey("b") ? p.get("b").castTo(a.dataType()).reshape(-1) : Nd4j.zeros(a.dataType(),
        a.length());
    Layer layer = e.layer();
    if (!p.containsKey("b")) {
      layer = layer.clone();
      if (layer instanceof ConvolutionLayer conv) {
        conv.setHasBias(true);
      } else {
        ((DenseLayer) layer).setHasBias(true);
      }
    }
    if (e.layer() instanceof ConvolutionLayer) {
      // [c_out, c_in, kH, kW]: scale each output channel's kernel
      w = w.mul(a.reshape(a.length(), 1, 1, 1));
    } else {
      w = w.mulRowVector(a.reshape(1, a.length()));
    }
    p.put("W", w);
    p.put("b", b.mul(a).add(c).reshape(1, a.length()));
    return new LayerStack.Entry(layer, e.pre(), p);
  }

  /** The dense layer after: its input x becomes a x + c, so W' = diag(a) W and b' = b + c W. */
  static LayerStack.Entry scaleInputs(LayerStack.Entry e, INDArray a, INDArray c) {
    Map<String, INDArray> p = new LinkedHashMap<>(e.params());
    INDArray w = p.get("W").castTo(a.dataType());
    INDArray b = p.get("b").castTo(a.dataType()).reshape(1, -1);
    p.put("W", w.mulColumnVector(a.reshape(a.length(), 1)));
    p.put("b", b.add(c.reshape(1, c.length()).mmul(w)).reshape(e.params().get("b").shape()));
    return new LayerStack.Entry(e.layer(), e.pre(), p);
  }

  private static boolean isAffine(Layer l) {
    return (l instanceof DenseLayer || l instanceof ConvolutionLayer) && ((BaseLayer) l).getActivationFn() != null;
  }

  private static boolean denseOrOutput(Layer l) {
    return l instanceof DenseLayer || l instanceof OutputLayer;
  }

  private static boolean identity(Layer l) {
    return ((BaseLayer) l).getActivationFn() instanceof ActivationIdentity;
  }

  /** The layers with the softmax output as one output layer with cross-entropy loss. */
  static List<LayerStack.Entry> softmaxOutput(List<LayerStack.Entry> in, String source) {
    List<LayerStack.Entry> layers = new ArrayList<>(in);
    if (layers.isEmpty()) {
      throw LetheInputException.of("%s: the model has no layers", source);
    }
    int last = layers.size() - 1;
    LayerStack.Entry e = layers.get(last);
    if (e.layer() instanceof LossLayer loss && last > 0 && loss.getActivationFn() instanceof ActivationIdentity) {
      // Keras: the loss as a layer of its own after the dense softmax layer
      layers.remove(last);
      last--;
      e = layers.get(last);
    }
    if (e.layer() instanceof ActivationLayer act && act.getActivationFn() instanceof ActivationSoftmax && last > 0
        && layers.get(last - 1).layer() instanceof DenseLayer d && identity(d)) {
      layers.remove(last);
      last--;
      e = layers.get(last);
      layers.set(last, output(e, (DenseLayer) e.layer()));
      return layers;
    }
    if (e.layer() instanceof DenseLayer d && d.getActivationFn() instanceof ActivationSoftmax) {
      layers.set(last, output(e, d));
      return layers;
    }
    if (e.layer() instanceof BaseOutputLayer o && o.getActivationFn() instanceof ActivationSoftmax
        && o.getLossFn() instanceof LossMCXENT && e.params().containsKey("W")) {
      return layers;
    }
    IActivation act = e.layer() instanceof BaseLayer b ? b.getActivationFn() : null;
    throw LetheInputException.of("%s: not a single-output softmax classifier: its last %s has activation %s",
        source, e.describe(last), act == null ? "none" : act.toString());
  }

  private static LayerStack.Entry output(LayerStack.Entry e, DenseLayer d) {
    OutputLayer o = new OutputLayer.Builder(new LossMCXENT()).nIn(d.getNIn()).nOut(d.getNOut())
        .activation(new ActivationSoftmax()).hasBias(d.hasBias()).name(d.getLayerName()).build();
    o.setWeightInitFn(d.getWeightInitFn());
    return new LayerStack.Entry(o, e.pre(), e.params());
  }
}
