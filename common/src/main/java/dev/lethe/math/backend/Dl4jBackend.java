package dev.lethe.math.backend;

import dev.lethe.data.ExampleSet;
import dev.lethe.math.Batches;
import dev.lethe.math.LogLikelihood;
import dev.lethe.math.PerExampleGradients;
import dev.lethe.model.DataSets;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The generic backend: DL4J's own forward and backward passes, in the network's data type, for any network DL4J can
 * run. Logits come from the output layer's input activations and its parameters (not the clipped MCXENT score), in
 * zero-padded forward passes of a fixed row count in inference mode. DL4J has no per-example gradient API:
 * {@link #forEachExampleGradient} runs one backward pass per row (batch of one), which keeps each row's gradient
 * independent of the others; {@code docs/your-model.md} records how it compares with the alternatives. The network's
 * input and labels are restored after each call.
 */
final class Dl4jBackend implements ModelBackend {
  private final MultiLayerNetwork net;
  private final int numClasses;
  private final DataType type;
  private double lastLoss = Double.NaN;

  Dl4jBackend(MultiLayerNetwork net) {
    this.net = net;
    this.numClasses = LogLikelihood.numClasses(net);
    this.type = net.params().dataType();
  }

  @Override
  public String name() {
    return "dl4j";
  }

  @Override
  public double[][] logits(ExampleSet s, int batchSize) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
    }
    double[][] z = new double[s.size()][];
    for (int from = 0; from < s.size(); from += batchSize) {
      int to = Math.min(s.size(), from + batchSize);
      double[][] part = LogLikelihood.logits(net, Batches.features(s, from, to, batchSize, type));
      System.arraycopy(part, 0, z, from, to - from);
    }
    return z;
  }

  @Override
  public double[][] embeddings(ExampleSet s, int batchSize) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize must be >= 1, got " + batchSize);
    }
    double[][] out = new double[s.size()][];
    for (int from = 0; from < s.size(); from += batchSize) {
      int to = Math.min(s.size(), from + batchSize);
      INDArray in = LogLikelihood.outputLayerInput(net, Batches.features(s, from, to, batchSize, type));
      double[][] rows = in.castTo(DataType.DOUBLE).reshape(in.size(0), -1).toDoubleMatrix();
      System.arraycopy(rows, 0, out, from, to - from);
    }
    return out;
  }

  @Override
  public boolean logLikFromGradientPass() {
    // a batch of one takes other kernels than the scoring pass's fixed batch shape: its values may differ
    return false;
  }

  @Override
  public void forEachExampleGradient(ExampleSet s, double[] logLik, PerExampleGradients.Visitor v) {
    if (logLik != null) {
      throw new IllegalArgumentException("DL4J's gradient pass does not record log-likelihoods");
    }
    INDArray oldInput = net.getInput();
    INDArray oldLabels = net.getLabels();
    try {
      int[] labels = s.labels();
      PerExampleGradients.Progress progress = new PerExampleGradients.Progress("per-example gradients", s.size());
      for (int i = 0; i < s.size(); i++) {
        net.setInput(Batches.features(s, i, i + 1, 1, type));
        net.setLabels(Batches.oneHot(labels, i, i + 1, numClasses, 1, type));
        net.computeGradientAndScore();
        INDArray g = net.getFlattenedGradients();
        g.negi();
        v.accept(i, g);
        progress.done(i + 1);
      }
    } finally {
      net.setInput(oldInput);
      net.setLabels(oldLabels);
    }
  }

  @Override
  public double[] gradLogLikSum(ExampleSet s, int chunk) {
    double[] total = new double[(int) net.numParams()];
    double[] comp = new double[total.length];
    INDArray oldInput = net.getInput();
    INDArray oldLabels = net.getLabels();
    try {
      for (int from = 0; from < s.size(); from += chunk) {
        int to = Math.min(s.size(), from + chunk);
        net.setInput(Batches.features(s, from, to, 0, type));
        net.setLabels(Batches.oneHot(s.labels(), from, to, numClasses, 0, type));
        net.computeGradientAndScore();
        double[] g = net.getFlattenedGradients().toDoubleVector();
        for (int j = 0; j < g.length; j++) {
          double x = -g[j];
          double t = total[j] + x;
          comp[j] += Math.abs(total[j]) >= Math.abs(x) ? (total[j] - t) + x : (x - t) + total[j];
          total[j] = t;
        }
      }
    } finally {
      net.setInput(oldInput);
      net.setLabels(oldLabels);
    }
    for (int j = 0; j < total.length; j++) {
      total[j] += comp[j];
    }
    return total;
  }

  @Override
  public Gradient writeLossGradient(ExampleSet batch) {
    net.setInput(Batches.features(batch, 0, batch.size(), 0, type));
    net.setLabels(Batches.oneHot(batch.labels(), 0, batch.size(), numClasses, 0, type));
    net.computeGradientAndScore();
    lastLoss = net.score() * batch.size();
    return net.gradient();
  }

  @Override
  public double lastLoss() {
    return lastLoss;
  }

  @Override
  public double fitStep(ExampleSet batch) {
    net.fit(DataSets.dataSet(batch, DataSets.range(0, batch.size()), numClasses, type));
    return net.score();
  }

  @Override
  public double meanLoss(ExampleSet s) {
    double sum = 0;
    for (int from = 0; from < s.size(); from += 256) {
      int[] rows = DataSets.range(from, Math.min(s.size(), from + 256));
      sum += net.score(DataSets.dataSet(s, rows, numClasses, type), false) * rows.length;
    }
    return sum / s.size();
  }

  @Override
  public void reloadParams() {
    // DL4J reads the network's parameters in every pass
  }
}
