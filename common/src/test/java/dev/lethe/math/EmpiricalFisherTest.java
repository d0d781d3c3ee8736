package dev.lethe.math;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lethe.LetheInputException;
import dev.lethe.data.ExampleSet;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

class EmpiricalFisherTest {

  @Test
  void equalsMeanOfSquaredPerExampleGradients() {
    MultiLayerNetwork net = TestNets.cnn(3, 4, DataType.DOUBLE);
    ExampleSet s = TestNets.randomSet(30, 36, 3, 5, 0);
    double[] expected = new double[(int) net.numParams()];
    PerExampleGradients.forEach(net, s, (row, g) -> {
      double[] v = g.toDoubleVector();
      for (int j = 0; j < v.length; j++) {
        expected[j] += v[j] * v[j] / s.size();
      }
    });
    DiagonalFisher f = EmpiricalFisher.compute(net, s);
    assertThat(f.count()).isEqualTo(30);
    assertThat(f.modelFingerprint()).isEqualTo(NetworkBytes.fingerprint(net)).hasSize(16);
    for (int j = 0; j < expected.length; j++) {
      // the published mean is rounded to float precision: relative error <= 2^-24
      assertThat(f.values()[j]).isCloseTo(expected[j], org.assertj.core.data.Offset.offset(
          Math.abs(expected[j]) * 6e-8 + 1e-300));
      assertThat((double) (float) f.values()[j]).isEqualTo(f.values()[j]);
    }
  }

  @Test
  void mergeOrderDoesNotChangeTheResult() {
    // synthetic gradients spanning many magnitudes so that naive summation would depend on order
    Random rng = new Random(42);
    int p = 200;
    List<double[]> grads = new ArrayList<>();
    for (int i = 0; i < 3000; i++) {
      double[] g = new double[p];
      for (int j = 0; j < p; j++) {
        g[j] = rng.nextGaussian() * Math.pow(10, rng.nextInt(12) - 6);
      }
      grads.add(g);
    }
    DiagonalFisher reference = null;
    for (int trial = 0; trial < 6; trial++) {
      List<double[]> order = new ArrayList<>(grads);
      Collections.shuffle(order, new Random(trial));
      int shards = 1 + trial * 3;
      List<EmpiricalFisher> parts = new ArrayList<>();
      for (int k = 0; k < shards; k++) {
        parts.add(new EmpiricalFisher(p));
      }
      for (int i = 0; i < order.size(); i++) {
        parts.get(i % shards).add(order.get(i));
      }
      Collections.shuffle(parts, new Random(100 + trial));
      // tree-shaped merge
      while (parts.size() > 1) {
        List<EmpiricalFisher> next = new ArrayList<>();
        for (int k = 0; k + 1 < parts.size(); k += 2) {
          next.add(parts.get(k).merge(parts.get(k + 1)));
        }
        if (parts.size() % 2 == 1) {
          next.add(parts.get(parts.size() - 1));
        }
        parts = next;
      }
      DiagonalFisher f = parts.get(0).toDiagonal("fp");
      assertThat(f.count()).isEqualTo(3000);
      if (reference == null) {
        reference = f;
      } else {
        assertThat(f.values()).isEqualTo(reference.values());
      }
    }
  }

  @Test
  void bytesRoundTripAndCorruptionIsDetected() {
    DiagonalFisher f = new DiagonalFisher(new double[] {1.5, 0, 3e-12, 7}, 99, "0123456789abcdef");
    byte[] bytes = f.toBytes();
    DiagonalFisher back = DiagonalFisher.fromBytes(bytes, "fisher.bin");
    assertThat(back.values()).isEqualTo(f.values());
    assertThat(back.count()).isEqualTo(99);
    assertThat(back.modelFingerprint()).isEqualTo("0123456789abcdef");

    byte[] flipped = bytes.clone();
    flipped[bytes.length - 10] ^= 1;
    assertThatThrownBy(() -> DiagonalFisher.fromBytes(flipped, "fisher.bin"))
        .isInstanceOf(LetheInputException.class).hasMessageContaining("fisher.bin").hasMessageContaining("CRC");
    assertThatThrownBy(() -> DiagonalFisher.fromBytes(Arrays.copyOf(bytes, bytes.length - 3), "cut.bin"))
        .isInstanceOf(LetheInputException.class).hasMessageContaining("cut.bin");
    assertThatThrownBy(() -> DiagonalFisher.fromBytes(Arrays.copyOf(bytes, 10), "short.bin"))
        .isInstanceOf(LetheInputException.class).hasMessageContaining("short.bin");
    byte[] magic = bytes.clone();
    magic[0] = 'X';
    assertThatThrownBy(() -> DiagonalFisher.fromBytes(magic, "magic.bin"))
        .isInstanceOf(LetheInputException.class).hasMessageContaining("magic.bin").hasMessageContaining("magic");
  }

  @Test
  void requireMatchesRejectsAnotherModel() {
    DiagonalFisher f = new DiagonalFisher(new double[4], 1, "aaaa");
    f.requireMatches(4, "aaaa", "fisher.bin");
    f.requireMatches(4, null, "fisher.bin");
    assertThatThrownBy(() -> f.requireMatches(5, "aaaa", "fisher.bin")).isInstanceOf(LetheInputException.class)
        .hasMessageContaining("Fisher from another model").hasMessageContaining("fisher.bin");
    assertThatThrownBy(() -> f.requireMatches(4, "bbbb", "fisher.bin")).isInstanceOf(LetheInputException.class)
        .hasMessageContaining("Fisher from another model");
  }

  @Test
  void networkBytesRoundTrip() {
    MultiLayerNetwork net = TestNets.cnn(3, 4, DataType.DOUBLE);
    MultiLayerNetwork copy = NetworkBytes.rebuild(NetworkBytes.configBytes(net),
        NetworkBytes.paramBytes(net.params()));
    assertThat(copy.params()).isEqualTo(net.params());
    assertThat(NetworkBytes.fingerprint(copy)).isEqualTo(NetworkBytes.fingerprint(net));
    copy.params().putScalar(0, 1.0 + copy.params().getDouble(0));
    assertThat(NetworkBytes.fingerprint(copy)).isNotEqualTo(NetworkBytes.fingerprint(net));
  }
}
