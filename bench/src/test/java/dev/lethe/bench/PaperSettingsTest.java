package dev.lethe.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lethe.LetheInputException;
import java.util.List;
import org.junit.jupiter.api.Test;

class PaperSettingsTest {
  @Test
  void anEmptyListRunsEverySettingAndANamedOneRunsAlone() {
    assertThat(QualitySuite.paper(List.of()).settings()).extracting(QualitySuite.Setting::name)
        .containsExactly(QualitySuite.LABEL_FLIP, QualitySuite.SALT_PEPPER, QualitySuite.FGSM,
            QualitySuite.LABEL_FLIP_SYMMETRIC);
    assertThat(QualitySuite.paper(List.of(QualitySuite.LABEL_FLIP)).settings()).extracting(QualitySuite.Setting::name)
        .containsExactly(QualitySuite.LABEL_FLIP);
  }

  @Test
  void anUnknownSettingIsBadInputNamingTheKey() {
    assertThatThrownBy(() -> QualitySuite.paper(List.of("label-flips"))).isInstanceOf(LetheInputException.class)
        .hasMessageContaining("bench.paper.settings").hasMessageContaining("label-flips")
        .hasMessageContaining("salt-pepper");
  }
}
