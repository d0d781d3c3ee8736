package dev.lethe.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lethe.LetheInputException;
import java.util.List;
import org.junit.jupiter.api.Test;

class PaperSettingsTest {
  @Test
  void anEmptyListRunsEverySettingAndANamedOneRunsAlone() {
    assertThat(QualitySuite.paper(List.of(), List.of()).settings()).extracting(QualitySuite.Setting::name)
        .containsExactly(QualitySuite.LABEL_FLIP, QualitySuite.SALT_PEPPER, QualitySuite.FGSM,
            QualitySuite.LABEL_FLIP_SYMMETRIC);
    assertThat(QualitySuite.paper(List.of(QualitySuite.LABEL_FLIP), List.of()).settings())
        .extracting(QualitySuite.Setting::name).containsExactly(QualitySuite.LABEL_FLIP);
  }

  @Test
  void repairsRunOnlyInTheNamedSettings() {
    QualitySuite.Plan p = QualitySuite.paper(List.of(), List.of(QualitySuite.LABEL_FLIP));
    assertThat(p.repairing()).containsExactly(QualitySuite.LABEL_FLIP);
    assertThat(QualitySuite.paper(List.of(), List.of()).repairing()).isEmpty();
    assertThatThrownBy(() -> QualitySuite.paper(List.of(), List.of("fgsm-poison")))
        .isInstanceOf(LetheInputException.class).hasMessageContaining("bench.paper.repair-settings")
        .hasMessageContaining("fgsm-poison");
  }

  @Test
  void namedMethodsRankAloneInTheSuitesOrderAndAnUnknownOneIsBadInput() {
    assertThat(QualitySuite.paper(List.of(), List.of()).methods()).isEqualTo(QualitySuite.IDENTIFY_METHODS);
    assertThat(QualitySuite.paper(List.of(), List.of(), List.of("tracin", "ewc-influence")).methods())
        .containsExactly("ewc-influence", "tracin");
    assertThatThrownBy(() -> QualitySuite.paper(List.of(), List.of(), List.of("tracin-cp")))
        .isInstanceOf(LetheInputException.class).hasMessageContaining("bench.paper.methods")
        .hasMessageContaining("tracin-cp").hasMessageContaining("linear-lissa");
  }

  @Test
  void anUnknownSettingIsBadInputNamingTheKey() {
    assertThatThrownBy(() -> QualitySuite.paper(List.of("label-flips"), List.of())).isInstanceOf(LetheInputException.class)
        .hasMessageContaining("bench.paper.settings").hasMessageContaining("label-flips")
        .hasMessageContaining("salt-pepper");
  }
}
