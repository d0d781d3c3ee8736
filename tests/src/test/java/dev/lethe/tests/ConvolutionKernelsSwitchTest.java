package dev.lethe.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.lethe.math.cnn.FastCnn;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code -Dlethe.vector-kernels=false} turns FastCnn's direct convolution kernels off in a stage's JVM (which has the
 * Vector API module, as bin/lethe and the deploy files start it), and the stage's provenance says so; without the
 * switch the same JVM setup records the direct kernels.
 */
class ConvolutionKernelsSwitchTest {
  @Test
  void theSwitchTurnsTheDirectKernelsOffAndProvenanceRecordsWhichRan() throws Exception {
    assertThat(FastCnn.kernels()).as("surefire's JVM has the module").startsWith("direct (Vector API, ");
    for (boolean off : new boolean[] {true, false}) {
      Path work = SmallWorkdir.copy("kernels-" + (off ? "off" : "on"));
      List<String> args = new ArrayList<>(List.of("fisher", "--master", "local[1]", "--overwrite"));
      args.addAll(List.of(SmallWorkdir.args(work)));
      AppJar.Run r = AppJar.run(off ? List.of("-Dlethe.vector-kernels=false") : List.of(), args);
      assertThat(r.code()).as(r.err()).isZero();
      Config prov = ConfigFactory.parseFile(work.resolve("fisher/diag.bin.provenance.json").toFile());
      assertThat(prov.getString("versions.convolution_kernels"))
          .isEqualTo(off ? "im2col + BLAS GEMM (-Dlethe.vector-kernels=false)" : FastCnn.kernels());
    }
  }
}
