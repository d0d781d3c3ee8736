package dev.lethe.bench;

import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * Floating-point operations of one forward pass, counted from the network's layer configurations and the input types
 * they propagate: 2 FLOPs per multiply-add of the convolution and dense (including output) layers, which dominate;
 * biases, activations, pooling and the softmax are not counted. The roofline of the benchmarks divides a measured
 * throughput in examples per second by this count.
 */
public final class Flops {
  private Flops() {}

  /**
   * FLOPs of the forward pass of one example: for a convolution 2 kH kW C_in C_out H_out W_out, for a dense layer
   * 2 n_in n_out.
   */
  public static long forwardPerExample(MultiLayerNetwork net) {
    MultiLayerConfiguration conf = net.getLayerWiseConfigurations();
    InputType in = inputType(conf);
    long flops = 0;
    for (int i = 0; i < conf.getConfs().size(); i++) {
      InputPreProcessor pre = conf.getInputPreProcess(i);
      if (pre != null) {
        in = pre.getOutputType(in);
      }
      Layer layer = conf.getConf(i).getLayer();
      InputType out = layer.getOutputType(i, in);
      if (layer instanceof ConvolutionLayer c && out instanceof InputType.InputTypeConvolutional o) {
        int[] k = c.getKernelSize();
        flops += 2L * k[0] * k[1] * c.getNIn() * c.getNOut() * o.getHeight() * o.getWidth();
      } else if (layer instanceof FeedForwardLayer f && !(layer instanceof ConvolutionLayer)) {
        flops += 2L * f.getNIn() * f.getNOut();
      }
      in = out;
    }
    return flops;
  }

  /** The network's input type: convolutional when the first layer reshapes flat rows into images. */
  private static InputType inputType(MultiLayerConfiguration conf) {
    if (conf.getInputPreProcess(0) instanceof FeedForwardToCnnPreProcessor p) {
      return InputType.feedForward(p.getInputHeight() * p.getInputWidth() * p.getNumChannels());
    }
    if (conf.getConf(0).getLayer() instanceof FeedForwardLayer f) {
      return InputType.feedForward(f.getNIn());
    }
    throw new IllegalArgumentException("cannot tell the input size of " + conf.getConf(0).getLayer());
  }
}
