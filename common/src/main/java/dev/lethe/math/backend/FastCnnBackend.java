package dev.lethe.math.backend;

import dev.lethe.data.ExampleSet;
import dev.lethe.math.LogLikelihood;
import dev.lethe.math.PerExampleGradients;
import dev.lethe.math.cnn.FastCnn;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * The CNN fast path ({@link FastCnn}) behind the seam: its own im2col and GEMM passes in fixed groups of rows,
 * so {@code batchSize} does not change its values. It reads and writes ND4J buffers through host NIO views, so the
 * selector only builds it on a CPU ND4J backend.
 */
final class FastCnnBackend implements ModelBackend {
  private final MultiLayerNetwork net;
  private final FastCnn fast;

  FastCnnBackend(MultiLayerNetwork net, FastCnn fast) {
    this.net = net;
    this.fast = fast;
  }

  @Override
  public String name() {
    return "fast-cnn";
  }

  @Override
  public double[][] logits(ExampleSet s, int batchSize) {
    return fast.logits(s, 0, s.size());
  }

  @Override
  public double[][] embeddings(ExampleSet s, int batchSize) {
    return fast.embeddings(s, 0, s.size());
  }

  @Override
  public boolean logLikFromGradientPass() {
    return true;
  }

  @Override
  public void forEachExampleGradient(ExampleSet s, double[] logLik, PerExampleGradients.Visitor v) {
    fast.forEachExampleGradient(s, logLik, v);
  }

  /** The fast path's projected backward pass ({@link FastCnn#gradientDots}): no per-example gradient is formed. */
  @Override
  public double[] exampleGradientDots(ExampleSet s, double[] direction, double[] logLik) {
    return fast.gradientDots(s, direction, logLik);
  }

  @Override
  public double[] exampleGradientSquaredNorms(ExampleSet s, double[] logLik) {
    return fast.gradientSquaredNorms(s, logLik);
  }

  @Override
  public double[] gradLogLikSum(ExampleSet s, int chunk) {
    if (s.size() == 0) {
      return new double[(int) net.numParams()];
    }
    double[] g = fast.lossGradient(s);
    for (int j = 0; j < g.length; j++) {
      g[j] = -g[j];
    }
    return g;
  }

  @Override
  public Gradient writeLossGradient(ExampleSet batch) {
    return new DefaultGradient(fast.writeLossGradient(batch));
  }

  @Override
  public double lastLoss() {
    return fast.lastLoss();
  }

  @Override
  public double fitStep(ExampleSet batch) {
    return FastCnn.fitStep(net, batch);
  }

  @Override
  public double meanLoss(ExampleSet s) {
    // in double precision from the parameters, whatever GEMM precision this instance's steps use
    FastCnn inDouble = FastCnn.forGradients(net).orElseThrow();
    return -LogLikelihood.meanOf(LogLikelihood.ofLogits(inDouble.logits(s, 0, s.size()), s.labels()));
  }

  @Override
  public void reloadParams() {
    fast.reloadParams();
  }
}
