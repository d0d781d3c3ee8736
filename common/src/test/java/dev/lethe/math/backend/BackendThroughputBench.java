package dev.lethe.math.backend;

import dev.lethe.data.ExampleSet;
import dev.lethe.math.Batches;
import dev.lethe.math.NetworkBytes;
import dev.lethe.math.TestNets;
import dev.lethe.model.Architecture;
import dev.lethe.model.ModelOptions;
import dev.lethe.model.Models;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Opt-in measurement of the two backends in one JVM ({@code -Dlethe.bench=true}): on the paper CNN (double, as
 * identify scores it) and an MLP, the scoring rate (log p of every row), the per-example gradient rate, and on the
 * generic DL4J path the per-example gradient options: a backward pass per row through the network's input and labels
 * ({@code computeGradientAndScore}, what {@code Dl4jBackend} runs) or through {@code calculateGradients}, and, as the
 * ceiling any per-example method could reach, one batched backward pass of 64 rows (only their sum).
 */
@EnabledIfSystemProperty(named = "lethe.bench", matches = "true")
class BackendThroughputBench {
  @Test
  void measure() {
    MultiLayerNetwork f = Models.build(new ModelOptions(Architecture.CNN, 1, 28, 28, 10, List.of(), 7),
        DataType.FLOAT);
    MultiLayerNetwork cnn = NetworkBytes.rebuild(NetworkBytes.configBytes(f), NetworkBytes.paramBytes(f.params()),
        DataType.DOUBLE);
    MultiLayerNetwork mlp = Models.build(new ModelOptions(Architecture.MLP, 1, 28, 28, 10, List.of(128), 7),
        DataType.DOUBLE);
    for (MultiLayerNetwork net : List.of(mlp, cnn)) {
      String name = net == cnn ? "paper CNN" : "MLP 784-128-10";
      // the generic path's per-example gradients run at a few rows/s on the CNN: fewer rows there
      ExampleSet s = TestNets.randomSet(net == cnn ? 48 : 512, 784, 10, 1, 0);
      BackendSelector auto = new BackendSelector(ComputeBackend.AUTO, () -> true);
      BackendSelector dl4j = new BackendSelector(ComputeBackend.DL4J, () -> true);
      ModelBackend fast = auto.select(net, Purpose.SCORES);
      ModelBackend generic = dl4j.select(net, Purpose.SCORES);
      ModelBackend fastGrads = auto.select(net, Purpose.DOUBLE);
      ModelBackend genericGrads = dl4j.select(net, Purpose.DOUBLE);
      int k = 10;
      // two rounds, interleaved; the second (warm) round is reported
      for (int round = 1; round <= 2; round++) {
        double scoreFast = rate(s.size(), () -> fast.logLikelihoods(s, 64));
        double scoreGeneric = rate(s.size(), () -> generic.logLikelihoods(s, 64));
        double gradFast = rate(s.size(), () -> fastGrads.forEachExampleGradient(s, null, (r, x) -> { }));
        double gradGeneric = rate(s.size(), () -> genericGrads.forEachExampleGradient(s, null, (r, x) -> { }));
        double calc = rate(s.size(), () -> {
          for (int i = 0; i < s.size(); i++) {
            INDArray x = Batches.features(s, i, i + 1, 1, DataType.DOUBLE);
            INDArray y = Batches.oneHot(s.labels(), i, i + 1, k, 1, DataType.DOUBLE);
            net.calculateGradients(x, y, null, null).getFirst().gradient().negi();
          }
        });
        double batched = rate(s.size(), () -> {
          for (int from = 0; from + 16 <= s.size(); from += 16) {
            net.setInput(Batches.features(s, from, from + 16, 16, DataType.DOUBLE));
            net.setLabels(Batches.oneHot(s.labels(), from, from + 16, k, 16, DataType.DOUBLE));
            net.computeGradientAndScore();
          }
        });
        System.err.printf("round %d, %s (%d rows): scoring %s %.1f rows/s, %s %.1f rows/s (ratio %.3f);"
            + " per-example gradients %s %.1f rows/s, %s (computeGradientAndScore per row) %.1f rows/s;"
            + " calculateGradients per row %.1f rows/s; batched backward passes of 16 (sum only) %.1f rows/s%n",
            round, name, s.size(), generic.name(), scoreGeneric, fast.name(), scoreFast, scoreGeneric / scoreFast,
            fastGrads.name(), gradFast, genericGrads.name(), gradGeneric, calc, batched);
      }
    }
  }

  private static double rate(int rows, Runnable r) {
    long t0 = System.nanoTime();
    r.run();
    return rows / ((System.nanoTime() - t0) / 1e9);
  }
}
