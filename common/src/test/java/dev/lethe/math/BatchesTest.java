package dev.lethe.math;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lethe.data.ExampleSet;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

class BatchesTest {
  @Test
  void featuresAndLabelsArePaddedWithZeroRows() {
    ExampleSet s = TestNets.randomSet(5, 3, 4, 1, 0);
    INDArray x = Batches.features(s, 1, 4, 6, DataType.DOUBLE);
    assertThat(x.shape()).containsExactly(6, 3);
    assertThat(x.dataType()).isEqualTo(DataType.DOUBLE);
    for (int j = 0; j < 3; j++) {
      assertThat(x.getDouble(0, j)).isEqualTo((double) s.features(1)[j]);
      assertThat(x.getDouble(2, j)).isEqualTo((double) s.features(3)[j]);
      assertThat(x.getDouble(5, j)).isZero();
    }
    INDArray y = Batches.oneHot(s.labels(), 1, 4, 4, 6, DataType.FLOAT);
    assertThat(y.shape()).containsExactly(6, 4);
    assertThat(y.getDouble(0, s.label(1))).isEqualTo(1.0);
    assertThat(y.sumNumber().doubleValue()).isEqualTo(3.0);
    assertThat(Batches.features(s, 0, 5, 2, DataType.FLOAT).shape()).containsExactly(5, 3);
    assertThatThrownBy(() -> Batches.oneHot(new int[] {7}, 0, 1, 4, 0, DataType.FLOAT))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("label 7");
  }

  @Test
  void fingerprintIgnoresTrainingCounters() {
    MultiLayerNetwork net = TestNets.mlp(3, 2, 1, DataType.FLOAT);
    String before = NetworkBytes.fingerprint(net);
    net.getLayerWiseConfigurations().setIterationCount(17);
    assertThat(NetworkBytes.fingerprint(net)).isEqualTo(before);
  }
}
