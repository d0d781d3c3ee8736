package dev.lethe.math;

import dev.lethe.data.ExampleSet;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

/**
 * Opt-in throughput measurement on Fashion-MNIST-sized inputs (float): run with {@code -Dlethe.bench=true}.
 * Prints per-example gradients/s and log-likelihood rows/s.
 */
@EnabledIfSystemProperty(named = "lethe.bench", matches = "true")
class ThroughputBench {
  @Test
  void measure() {
    MultiLayerConfiguration mlp = new NeuralNetConfiguration.Builder().seed(1).dataType(DataType.FLOAT).list()
        .layer(new DenseLayer.Builder().nIn(784).nOut(128).activation(Activation.RELU).build())
        .layer(new OutputLayer.Builder(LossFunction.MCXENT).activation(Activation.SOFTMAX).nIn(128).nOut(10).build())
        .build();
    MultiLayerConfiguration cnn = new NeuralNetConfiguration.Builder().seed(1).dataType(DataType.FLOAT).list()
        .layer(new ConvolutionLayer.Builder(5, 5).nOut(16).activation(Activation.RELU).build())
        .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
        .layer(new ConvolutionLayer.Builder(5, 5).nOut(32).activation(Activation.RELU).build())
        .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build())
        .layer(new DenseLayer.Builder().nOut(128).activation(Activation.RELU).build())
        .layer(new OutputLayer.Builder(LossFunction.MCXENT).activation(Activation.SOFTMAX).nOut(10).build())
        .setInputType(InputType.convolutionalFlat(28, 28, 1)).build();
    ExampleSet s = TestNets.randomSet(1000, 784, 10, 1, 0);
    for (MultiLayerConfiguration conf : new MultiLayerConfiguration[] {mlp, cnn}) {
      MultiLayerNetwork net = new MultiLayerNetwork(conf);
      net.init();
      PerExampleGradients.forEach(net, s.select(new int[] {0, 1, 2}), (r, g) -> { });
      long t0 = System.nanoTime();
      PerExampleGradients.forEach(net, s, (r, g) -> { });
      double bare = (System.nanoTime() - t0) / 1e9;
      t0 = System.nanoTime();
      PerExampleGradients.forEach(net, s, (r, g) -> g.toDoubleVector());
      double toVec = (System.nanoTime() - t0) / 1e9;
      System.err.printf("bare forEach %.0f rows/s, with toDoubleVector %.0f rows/s%n", s.size() / bare,
          s.size() / toVec);
      t0 = System.nanoTime();
      EmpiricalFisher f = EmpiricalFisher.accumulate(net, s);
      double gradSecs = (System.nanoTime() - t0) / 1e9;
      t0 = System.nanoTime();
      LogLikelihood.perExample(net, s, 128);
      double llSecs = (System.nanoTime() - t0) / 1e9;
      System.err.printf("%s p=%d: per-example gradients + Fisher accumulate %.0f rows/s; log-likelihood (batch 128)"
          + " %.0f rows/s%n", net.getnLayers() == 2 ? "MLP 784-128-10" : "CNN 2xconv5", net.numParams(),
          s.size() / gradSecs, s.size() / llSecs, f.count());
    }
  }
}
