package dev.lethe.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lethe.math.backend.BackendSelector;
import dev.lethe.math.backend.ComputeBackend;
import dev.lethe.spark.StageFixture;
import java.nio.file.Path;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The backend suite on a few rows: it measures both backends (the fast path where ND4J runs on the CPU, as here),
 * records the ratio of their rates as the quotient of the recorded rates, finds the same log-likelihoods (1e-9
 * relative) and Fisher diagonals (1e-6 relative) on both, and leaves the process's compute.backend as it was; a bad
 * bench.backend setting is bad input naming the key.
 */
class BackendSuiteTest {
  @Test
  void measuresBothBackendsAndFindsTheSameValues() {
    Map<String, Double> rows = new LinkedHashMap<>();
    ComputeBackend before = BackendSelector.setting();
    String md = BackendSuite.run(new BackendSuite.Settings(24, 3, 1, 8, 5),
        (experiment, setting, seed, method, metric, value, unit) -> {
          assertThat(experiment).isEqualTo(BackendSuite.EXPERIMENT);
          rows.put(method + "/" + metric, value);
        });
    assertThat(BackendSelector.setting()).isEqualTo(before);
    assertThat(rows).containsKeys("fast-cnn/scoring_rows_per_second", "dl4j/scoring_rows_per_second",
        "fast-cnn/fisher_seconds", "dl4j/fisher_seconds");
    assertThat(rows.get("dl4j/scoring_rate_ratio_to_auto")).isCloseTo(rows.get("dl4j/scoring_rows_per_second")
        / rows.get("fast-cnn/scoring_rows_per_second"), org.assertj.core.data.Offset.offset(1e-12));
    assertThat(rows.get("dl4j/fisher_time_ratio_to_auto")).isCloseTo(rows.get("dl4j/fisher_seconds")
        / rows.get("fast-cnn/fisher_seconds"), org.assertj.core.data.Offset.offset(1e-12));
    assertThat(rows.get("dl4j/loglik_max_rel_diff_to_auto")).isLessThanOrEqualTo(1e-9);
    assertThat(rows.get("dl4j/fisher_max_rel_diff_to_auto")).isLessThanOrEqualTo(1e-6);
    assertThat(md).contains("## Compute backends on the paper CNN", "| fast-cnn |", "| dl4j |");
  }

  @Test
  void aBadSettingIsBadInputNamingTheKeyAndWritesNothing() {
    Path fresh = StageFixture.newDir("bench-backend-bad").resolve("out");
    StageFixture.Run bad = StageFixture.run("bench", fresh, List.of("bench.backend.rounds=0"), "--suite", "backend");
    assertThat(bad.code()).isEqualTo(2);
    assertThat(bad.err()).contains("bench.backend.rounds");
    assertThat(fresh).doesNotExist();
  }
}
