package dev.lethe.math.backend;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lethe.math.NetworkBytes;
import dev.lethe.math.TestNets;
import dev.lethe.model.Architecture;
import dev.lethe.model.ModelOptions;
import dev.lethe.model.Models;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

class BackendSelectorTest {
  private static MultiLayerNetwork paperCnn(DataType type) {
    MultiLayerNetwork f = Models.build(new ModelOptions(Architecture.CNN, 1, 28, 28, 10, List.of(), 7),
        DataType.FLOAT);
    return type == DataType.FLOAT ? f
        : NetworkBytes.rebuild(NetworkBytes.configBytes(f), NetworkBytes.paramBytes(f.params()), type);
  }

  @Test
  void aSimulatedDeviceBackendNeverGetsTheFastPath() {
    BackendSelector device = new BackendSelector(ComputeBackend.AUTO, () -> false);
    assertThat(device.fastPathAllowed()).isFalse();
    for (DataType t : List.of(DataType.FLOAT, DataType.DOUBLE)) {
      MultiLayerNetwork net = paperCnn(t);
      for (Purpose p : Purpose.values()) {
        assertThat(device.select(net, p).name()).as("%s network, %s", t, p).isEqualTo("dl4j");
      }
    }
  }

  @Test
  void autoOnTheCpuTakesTheFastPathWhereItAppliesAndDl4jForcesDl4j() {
    BackendSelector cpu = new BackendSelector(ComputeBackend.AUTO, () -> true);
    MultiLayerNetwork d = paperCnn(DataType.DOUBLE);
    MultiLayerNetwork f = paperCnn(DataType.FLOAT);
    for (Purpose p : Purpose.values()) {
      assertThat(cpu.select(d, p).name()).as("double paper CNN, %s", p).isEqualTo("fast-cnn");
    }
    // a float network's scores stay DL4J's float arithmetic; its gradients and steps take the fast path
    assertThat(cpu.select(f, Purpose.SCORES).name()).isEqualTo("dl4j");
    assertThat(cpu.select(f, Purpose.DOUBLE).name()).isEqualTo("fast-cnn");
    assertThat(cpu.select(f, Purpose.OPTIMISER).name()).isEqualTo("fast-cnn");
    // networks the fast path does not support
    MultiLayerNetwork mlp = TestNets.mlp(6, 3, 2, DataType.DOUBLE);
    assertThat(cpu.select(mlp, Purpose.DOUBLE).name()).isEqualTo("dl4j");
    BackendSelector forced = new BackendSelector(ComputeBackend.DL4J, () -> true);
    assertThat(forced.fastPathAllowed()).isFalse();
    for (Purpose p : Purpose.values()) {
      assertThat(forced.select(d, p).name()).as("compute.backend = dl4j, %s", p).isEqualTo("dl4j");
    }
  }

  @Test
  void theSettingParsesItsTwoValues() {
    assertThat(ComputeBackend.parse("auto")).isEqualTo(ComputeBackend.AUTO);
    assertThat(ComputeBackend.parse(" DL4J ")).isEqualTo(ComputeBackend.DL4J);
    assertThatThrownBy(() -> ComputeBackend.parse("cuda")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("compute.backend").hasMessageContaining("'cuda'");
  }
}
