package dev.lethe.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

class GemmRateTest {
  @Test
  void ratesArePositiveAndFinite() {
    assertThat(GemmRate.flopsPerSecond(DataType.DOUBLE, 64, 0.0)).isPositive().isFinite();
    assertThat(GemmRate.concurrentFlopsPerSecond(DataType.DOUBLE, 64, 0.0, 1)).isPositive().isFinite();
    assertThat(GemmRate.concurrentFlopsPerSecond(DataType.DOUBLE, 64, 0.05, 3)).isPositive().isFinite();
  }

  @Test
  void theCallersBlasThreadSettingIsRestored() {
    int saved = Nd4j.factory().blas().getMaxThreads();
    try {
      Nd4j.factory().blas().setMaxThreads(2);
      GemmRate.concurrentFlopsPerSecond(DataType.DOUBLE, 32, 0.0, 2);
      assertThat(Nd4j.factory().blas().getMaxThreads()).isEqualTo(2);
    } finally {
      Nd4j.factory().blas().setMaxThreads(saved);
    }
  }

  @Test
  @Timeout(60)
  void aFailingWorkerIsReportedAndDoesNotHoldTheOthers() {
    // no GEMM of strings: every worker fails building its operands; none may wait for the others forever
    assertThatThrownBy(() -> GemmRate.concurrentFlopsPerSecond(DataType.UTF8, 16, 0.0, 2))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("a concurrent GEMM failed");
  }

  @Test
  void badArgumentsAreRejected() {
    assertThatThrownBy(() -> GemmRate.concurrentFlopsPerSecond(DataType.DOUBLE, 16, 0.0, 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("threads");
    assertThatThrownBy(() -> GemmRate.flopsPerSecond(DataType.DOUBLE, 0, 0.0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("size");
    assertThatThrownBy(() -> GemmRate.flopsPerSecond(DataType.DOUBLE, 16, Double.NaN))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("minSeconds");
  }

  @Test
  void openBlasKernelsNameTheEnvironmentSetting() {
    assertThat(GemmRate.openBlasKernels(null)).isEqualTo("auto");
    assertThat(GemmRate.openBlasKernels(" ")).isEqualTo("auto");
    assertThat(GemmRate.openBlasKernels(" Haswell ")).isEqualTo("OPENBLAS_CORETYPE=Haswell");
  }
}
