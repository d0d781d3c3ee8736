package dev.lethe.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lethe.model.Architecture;
import dev.lethe.model.ModelOptions;
import dev.lethe.model.Models;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

/** Forward FLOP counts against hand counts of the paper's CNN and of the MLP, and the GEMM rate's sanity. */
class FlopsTest {

  @Test
  void countsThePaperCnnByHand() {
    var net = Models.build(new ModelOptions(Architecture.CNN, 1, 28, 28, 10, List.of(128), 1));
    // 3x3 'same' convolutions: 28x28 1->32, pool, 14x14 32->32, pool, 7x7 32->64, 7x7 64->64; dense 64->10
    long expected = 2L * 9 * 1 * 32 * 28 * 28 + 2L * 9 * 32 * 32 * 14 * 14 + 2L * 9 * 32 * 64 * 7 * 7
        + 2L * 9 * 64 * 64 * 7 * 7 + 2L * 64 * 10;
    assertThat(Flops.forwardPerExample(net)).isEqualTo(expected).isEqualTo(9_484_544L);
  }

  @Test
  void countsTheMlpAndTheLogisticRegression() {
    var mlp = Models.build(new ModelOptions(Architecture.MLP, 1, 28, 28, 10, List.of(128, 32), 1));
    assertThat(Flops.forwardPerExample(mlp)).isEqualTo(2L * (784 * 128 + 128 * 32 + 32 * 10));
    var logistic = Models.build(new ModelOptions(Architecture.LOGISTIC, 1, 28, 28, 10, List.of(), 1));
    assertThat(Flops.forwardPerExample(logistic)).isEqualTo(2L * 784 * 10);
  }

  @Test
  void gemmRateIsPositiveAndFinite() {
    double rate = GemmRate.flopsPerSecond(DataType.DOUBLE, 64, 0.05);
    assertThat(rate).isPositive().isFinite();
    assertThatThrownBy(() -> GemmRate.flopsPerSecond(DataType.DOUBLE, 0, 1)).isInstanceOf(
        IllegalArgumentException.class);
  }

  @Test
  void openBlasKernelsNameTheEnvironmentSettingOrAuto() {
    assertThat(GemmRate.openBlasKernels("Haswell")).isEqualTo("OPENBLAS_CORETYPE=Haswell");
    assertThat(GemmRate.openBlasKernels(" SkylakeX ")).isEqualTo("OPENBLAS_CORETYPE=SkylakeX");
    assertThat(GemmRate.openBlasKernels(null)).isEqualTo("auto");
    assertThat(GemmRate.openBlasKernels("")).isEqualTo("auto");
    // this process's own setting, as recorded
    String env = System.getenv("OPENBLAS_CORETYPE");
    assertThat(GemmRate.openBlasKernels()).isEqualTo(env == null || env.isBlank() ? "auto"
        : "OPENBLAS_CORETYPE=" + env.trim());
  }
}
