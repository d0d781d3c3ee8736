package dev.lethe.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lethe.LetheInputException;
import dev.lethe.config.LetheConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which identification and repair methods `pipeline` runs. */
class PipelineJobTest {

  private static LetheConfig config(String... sets) {
    return LetheConfig.load("", "test.conf", List.of(sets));
  }

  @Test
  void identifyRunsTheConfiguredMethodFirstThenTheOthersOnce() {
    assertThat(PipelineJob.identifyMethods(config())).containsExactly("ewc-influence");
    assertThat(PipelineJob.identifyMethods(config("pipeline.identify-methods=[random, ewc-influence, oracle]")))
        .containsExactly("ewc-influence", "random", "oracle");
    assertThat(PipelineJob.identifyMethods(config("identify.method=linear-cg",
        "pipeline.identify-methods=[ random ]"))).containsExactly("linear-cg", "random");
  }

  @Test
  void unknownIdentifyMethodNamesTheKey() {
    assertThatThrownBy(() -> PipelineJob.identifyMethods(config("pipeline.identify-methods=[ewc-influence, nope]")))
        .isInstanceOf(LetheInputException.class).hasMessageContaining("pipeline.identify-methods")
        .hasMessageContaining("nope");
  }

  @Test
  void repairMethodsDefaultToRepairMethodAndRejectRepeats() {
    assertThat(PipelineJob.repairMethods(config())).containsExactly("ewc-deletion");
    assertThat(PipelineJob.repairMethods(config("pipeline.repair-methods=[finetune, newton-removal]")))
        .containsExactly("finetune", "newton-removal");
    assertThatThrownBy(() -> PipelineJob.repairMethods(config("pipeline.repair-methods=[finetune, finetune]")))
        .isInstanceOf(LetheInputException.class).hasMessageContaining("twice");
  }
}
