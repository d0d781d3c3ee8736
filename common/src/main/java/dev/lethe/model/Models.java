package dev.lethe.model;

import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

/**
 * Builds the networks Lethe trains. Every model takes flat rows of {@code channels x height x width} features (the
 * CNN reshapes them with a preprocessor) and ends in a softmax output layer with the multi-class cross-entropy
 * loss, so {@code -loss} is {@code log p(y|x, theta)}. No dropout or other stochastic layers: the per-example
 * gradients of the Fisher and influence scores are those of the deterministic model.
 */
public final class Models {
  /** Adam's default learning rate; trainers set their own with {@code setLearningRate}. */
  public static final double DEFAULT_LEARNING_RATE = 1e-3;

  private Models() {}

  /** A freshly initialised network (float parameters). */
  public static MultiLayerNetwork build(ModelOptions o) {
    return build(o, DataType.FLOAT);
  }

  /** A freshly initialised network with the given parameter type (tests use DOUBLE for gradient checks). */
  public static MultiLayerNetwork build(ModelOptions o, DataType dataType) {
    MultiLayerNetwork net = new MultiLayerNetwork(configuration(o, dataType));
    net.init();
    return net;
  }

  public static MultiLayerConfiguration configuration(ModelOptions o, DataType dataType) {
    NeuralNetConfiguration.ListBuilder b = new NeuralNetConfiguration.Builder()
        .seed(o.seed())
        .dataType(dataType)
        .updater(new Adam(DEFAULT_LEARNING_RATE))
        .weightInit(WeightInit.RELU)
        .list();
    switch (o.architecture()) {
      case CNN -> {
        b.layer(conv(32)).layer(maxPool())
            .layer(conv(32)).layer(maxPool())
            .layer(conv(64))
            .layer(conv(64))
            .layer(new GlobalPoolingLayer.Builder(PoolingType.AVG).build())
            .layer(output(o.numClasses()));
        b.setInputType(InputType.convolutionalFlat(o.height(), o.width(), o.channels()));
      }
      case MLP -> {
        for (int h : o.hidden()) {
          b.layer(new DenseLayer.Builder().nOut(h).activation(Activation.RELU).build());
        }
        b.layer(output(o.numClasses()));
        b.setInputType(InputType.feedForward(o.numFeatures()));
      }
      case LOGISTIC -> {
        b.layer(new OutputLayer.Builder(LossFunction.MCXENT).nOut(o.numClasses()).activation(Activation.SOFTMAX)
            .weightInit(WeightInit.ZERO).build());
        b.setInputType(InputType.feedForward(o.numFeatures()));
      }
      default -> throw new IllegalArgumentException(o.architecture().toString());
    }
    return b.build();
  }

  private static ConvolutionLayer conv(int kernels) {
    return new ConvolutionLayer.Builder(3, 3).nOut(kernels).convolutionMode(ConvolutionMode.Same)
        .activation(Activation.RELU).build();
  }

  private static SubsamplingLayer maxPool() {
    return new SubsamplingLayer.Builder(PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build();
  }

  private static OutputLayer output(int numClasses) {
    return new OutputLayer.Builder(LossFunction.MCXENT).nOut(numClasses).activation(Activation.SOFTMAX)
        .weightInit(WeightInit.XAVIER).build();
  }
}
