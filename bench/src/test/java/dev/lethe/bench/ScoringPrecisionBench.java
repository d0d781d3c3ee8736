package dev.lethe.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lethe.data.ExampleSet;
import dev.lethe.math.Batches;
import dev.lethe.math.cnn.FastCnn;
import dev.lethe.math.LogLikelihood;
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
import org.nd4j.linalg.factory.Nd4j;

/**
 * Opt-in profile of the scoring hot path ({@code -Dlethe.bench=true}): log-likelihood rows/s of the paper CNN in
 * float and in double (identify scores in double), batch 128, in this JVM with ND4J's default threads, and the share
 * of time spent in the forward pass against the per-row Java work. Prints its figures; asserts only that both
 * precisions agree to float accuracy.
 */
@EnabledIfSystemProperty(named = "lethe.bench", matches = "true")
class ScoringPrecisionBench {
  @Test
  void floatAgainstDouble() {
    MultiLayerNetwork floatNet = Models.build(new ModelOptions(Architecture.CNN, 1, 28, 28, 10, List.of(), 7),
        DataType.FLOAT);
    MultiLayerNetwork doubleNet = NetworkBytes.rebuild(NetworkBytes.configBytes(floatNet),
        NetworkBytes.paramBytes(floatNet.params()), DataType.DOUBLE);
    ExampleSet s = TestNets.randomSet(3000, 784, 10, 3, 0);
    double[][] out = new double[2][];
    MultiLayerNetwork[] nets = {floatNet, doubleNet};
    for (int round = 0; round < 2; round++) {
      for (int i = 0; i < 2; i++) {
        long t0 = System.nanoTime();
        out[i] = LogLikelihood.perExample(nets[i], s, 128);
        double sec = (System.nanoTime() - t0) / 1e9;
        if (round == 1) {
          System.out.printf("scoring %s: %d rows in %.2f s = %.0f rows/s (%.2f GFLOP/s forward)%n",
              i == 0 ? "float" : "double", s.size(), sec, s.size() / sec,
              s.size() * (double) Flops.forwardPerExample(nets[i]) / sec / 1e9);
        }
      }
    }
    for (int r = 0; r < s.size(); r++) {
      assertThat(out[0][r]).isCloseTo(out[1][r], org.assertj.core.api.Assertions.within(1e-3));
    }
  }

  @Test
  void convLogitsAgainstDl4j() {
    MultiLayerNetwork floatNet = Models.build(new ModelOptions(Architecture.CNN, 1, 28, 28, 10, List.of(), 7),
        DataType.FLOAT);
    MultiLayerNetwork net = NetworkBytes.rebuild(NetworkBytes.configBytes(floatNet),
        NetworkBytes.paramBytes(floatNet.params()), DataType.DOUBLE);
    ExampleSet s = TestNets.randomSet(3000, 784, 10, 3, 0);
    FastCnn fast = FastCnn.of(net).orElseThrow();
    long flops = Flops.forwardPerExample(net);
    for (int round = 0; round < 2; round++) {
      long t0 = System.nanoTime();
      for (int from = 0; from < s.size(); from += 128) {
        LogLikelihood.logits(net, Batches.features(s, from, Math.min(s.size(), from + 128), 128, DataType.DOUBLE));
      }
      double dl4j = (System.nanoTime() - t0) / 1e9;
      t0 = System.nanoTime();
      fast.logits(s, 0, s.size());
      double conv = (System.nanoTime() - t0) / 1e9;
      if (round == 1) {
        System.out.printf("double logits, %d rows: DL4J %.2f s (%.0f rows/s, %.2f GFLOP/s), FastCnn %.2f s"
            + " (%.0f rows/s, %.2f GFLOP/s), speed-up %.2fx%n", s.size(), dl4j, s.size() / dl4j,
            s.size() * (double) flops / dl4j / 1e9, conv, s.size() / conv, s.size() * (double) flops / conv / 1e9,
            dl4j / conv);
      }
    }
  }

  /** Minibatch (64 rows, the EWC update's) and per-example gradients of the float paper CNN: DL4J against FastCnn. */
  @Test
  void gradientsAgainstDl4j() {
    MultiLayerNetwork net = Models.build(new ModelOptions(Architecture.CNN, 1, 28, 28, 10, List.of(), 7),
        DataType.FLOAT);
    ExampleSet s = TestNets.randomSet(640, 784, 10, 3, 0);
    int k = 10;
    for (int round = 0; round < 2; round++) {
      long t0 = System.nanoTime();
      for (int from = 0; from < s.size(); from += 64) {
        net.setInput(Batches.features(s, from, from + 64, 0, DataType.FLOAT));
        net.setLabels(Batches.oneHot(s.labels(), from, from + 64, k, 0, DataType.FLOAT));
        net.computeGradientAndScore();
      }
      double dl4j = (System.nanoTime() - t0) / 1e9;
      t0 = System.nanoTime();
      for (int from = 0; from < s.size(); from += 64) {
        FastCnn.forGradients(net).orElseThrow().writeLossGradient(s.select(java.util.stream.IntStream
            .range(from, from + 64).toArray()));
      }
      double fast = (System.nanoTime() - t0) / 1e9;
      ExampleSet few = s.select(java.util.stream.IntStream.range(0, 160).toArray());
      double[] sink = new double[1];
      t0 = System.nanoTime();
      for (int r = 0; r < few.size(); r++) {
        net.setInput(Batches.features(few, r, r + 1, 1, DataType.FLOAT));
        net.setLabels(Batches.oneHot(few.labels(), r, r + 1, k, 1, DataType.FLOAT));
        net.computeGradientAndScore();
        sink[0] += net.getFlattenedGradients().getDouble(0);
      }
      double dl4jPer = (System.nanoTime() - t0) / 1e9;
      t0 = System.nanoTime();
      FastCnn.forGradients(net).orElseThrow().forEachExampleGradient(few, (row, g) -> sink[0] += g.getDouble(0));
      double fastPer = (System.nanoTime() - t0) / 1e9;
      if (round == 1) {
        System.out.printf("minibatch gradients (64 rows), %d rows: DL4J %.2f s (%.0f rows/s), FastCnn %.2f s"
            + " (%.0f rows/s), speed-up %.2fx%n", s.size(), dl4j, s.size() / dl4j, fast, s.size() / fast,
            dl4j / fast);
        System.out.printf("per-example gradients, %d rows: DL4J %.2f s (%.0f rows/s), FastCnn %.2f s (%.0f rows/s),"
            + " speed-up %.2fx%n", few.size(), dl4jPer, few.size() / dl4jPer, fastPer, few.size() / fastPer,
            dl4jPer / fastPer);
      }
    }
  }

  /**
   * FastCnn on one thread against {@link FastCnn#defaultThreads()} threads (groups of images in parallel, BLAS on
   * one thread each): logits of 3000 double rows, minibatch gradients (64 rows) and per-example gradients of the
   * float paper CNN. Results are identical (FastCnnTest); this prints the rates.
   */
  @Test
  void fastCnnThreads() {
    MultiLayerNetwork floatNet = Models.build(new ModelOptions(Architecture.CNN, 1, 28, 28, 10, List.of(), 7),
        DataType.FLOAT);
    MultiLayerNetwork net = NetworkBytes.rebuild(NetworkBytes.configBytes(floatNet),
        NetworkBytes.paramBytes(floatNet.params()), DataType.DOUBLE);
    ExampleSet s = TestNets.randomSet(3000, 784, 10, 3, 0);
    ExampleSet few = s.select(java.util.stream.IntStream.range(0, 320).toArray());
    int many = FastCnn.defaultThreads();
    double[] sink = new double[1];
    for (int round = 0; round < 2; round++) {
      double[][] sec = new double[2][3];
      for (int v = 0; v < 2; v++) {
        int threads = v == 0 ? 1 : many;
        long t0 = System.nanoTime();
        FastCnn.of(net).orElseThrow().withThreads(threads).logits(s, 0, s.size());
        sec[v][0] = (System.nanoTime() - t0) / 1e9;
        t0 = System.nanoTime();
        for (int from = 0; from < 640; from += 64) {
          FastCnn.forGradients(floatNet).orElseThrow().withThreads(threads)
              .writeLossGradient(s.select(java.util.stream.IntStream.range(from, from + 64).toArray()));
        }
        sec[v][1] = (System.nanoTime() - t0) / 1e9;
        t0 = System.nanoTime();
        FastCnn.forGradients(floatNet).orElseThrow().withThreads(threads)
            .forEachExampleGradient(few, (row, g) -> sink[0] += g.getDouble(0));
        sec[v][2] = (System.nanoTime() - t0) / 1e9;
      }
      if (round == 1) {
        String[] what = {"logits (3000 rows)", "minibatch gradients (640 rows)", "per-example gradients (320 rows)"};
        int[] rows = {3000, 640, 320};
        for (int i = 0; i < 3; i++) {
          System.out.printf("FastCnn %s: 1 thread %.2f s (%.0f rows/s), %d threads %.2f s (%.0f rows/s), speed-up"
              + " %.2fx%n", what[i], sec[0][i], rows[i] / sec[0][i], many, sec[1][i], rows[i] / sec[1][i],
              sec[0][i] / sec[1][i]);
        }
      }
    }
  }

  /**
   * The scoring pass's kernel as Spark runs it: blocks of 512 rows of the double paper CNN through FastCnn's
   * forward pass on one thread, alone and as two concurrent single-threaded workers (two tasks on two cores), against
   * ND4J's 512x512 double GEMM rate with one and with two BLAS threads (the roofline's reference). Median block time
   * over {@value #BLOCKS} blocks per worker after a warm-up; prints rates and fractions, asserts that both workers'
   * logits equal the single thread's bit for bit.
   */
  @Test
  void concurrentBlocksAgainstGemm() throws Exception {
    MultiLayerNetwork floatNet = Models.build(new ModelOptions(Architecture.CNN, 1, 28, 28, 10, List.of(), 7),
        DataType.FLOAT);
    MultiLayerNetwork net = NetworkBytes.rebuild(NetworkBytes.configBytes(floatNet),
        NetworkBytes.paramBytes(floatNet.params()), DataType.DOUBLE);
    ExampleSet block = TestNets.randomSet(512, 784, 10, 5, 0);
    double flops = (double) Flops.forwardPerExample(net) * block.size();
    double[][] reference = FastCnn.of(net).orElseThrow().withThreads(1).logits(block, 0, block.size());
    Timed alone = timeBlocks(net, block);
    Timed[] together = new Timed[2];
    Thread[] workers = new Thread[2];
    for (int w = 0; w < 2; w++) {
      int id = w;
      workers[w] = new Thread(() -> together[id] = timeBlocks(net, block));
      workers[w].start();
    }
    for (Thread t : workers) {
      t.join();
    }
    assertThat(together).as("both workers finished (a failure is printed above)").doesNotContainNull();
    int saved = Nd4j.factory().blas().getMaxThreads();
    double gemm1;
    double gemm2;
    try {
      Nd4j.factory().blas().setMaxThreads(1);
      gemm1 = GemmRate.flopsPerSecond(DataType.DOUBLE, 512, 2.0);
      Nd4j.factory().blas().setMaxThreads(2);
      gemm2 = GemmRate.flopsPerSecond(DataType.DOUBLE, 512, 2.0);
    } finally {
      Nd4j.factory().blas().setMaxThreads(saved);
    }
    double a = median(alone.seconds());
    double t = Math.max(median(together[0].seconds()), median(together[1].seconds()));
    System.out.printf("forward, 512-row blocks (%s): one thread %.1f ms/block = %.2f GFLOP/s = %.1f%% of the"
        + " 1-thread GEMM (%.2f GFLOP/s); two concurrent workers %.1f ms/block each = %.2f GFLOP/s = %.1f%% of the"
        + " 2-thread GEMM (%.2f GFLOP/s); scaling %.2fx%n", GemmRate.openBlasKernels(), 1e3 * a, flops / a / 1e9,
        100 * flops / a / gemm1, gemm1 / 1e9, 1e3 * t, 2 * flops / t / 1e9, 100 * 2 * flops / t / gemm2,
        gemm2 / 1e9, a * 2 / t);
    for (Timed w : new Timed[] {alone, together[0], together[1]}) {
      for (int r = 0; r < block.size(); r++) {
        assertThat(w.logits()[r]).isEqualTo(reference[r]);
      }
    }
  }

  private static final int BLOCKS = 12;

  /** The seconds of each timed block and the last block's logits. */
  private record Timed(double[] seconds, double[][] logits) {}

  /**
   * {@code block}'s logits through a new single-threaded FastCnn of {@code net} on the calling thread: two blocks
   * untimed, then {@value #BLOCKS} timed.
   */
  private static Timed timeBlocks(MultiLayerNetwork net, ExampleSet block) {
    FastCnn f = FastCnn.of(net).orElseThrow().withThreads(1);
    double[] seconds = new double[BLOCKS];
    double[][] logits = null;
    for (int i = -2; i < BLOCKS; i++) {
      long t0 = System.nanoTime();
      logits = f.logits(block, 0, block.size());
      if (i >= 0) {
        seconds[i] = (System.nanoTime() - t0) / 1e9;
      }
    }
    return new Timed(seconds, logits);
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    java.util.Arrays.sort(s);
    return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  }
}
