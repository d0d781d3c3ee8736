package dev.lethe.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lethe.LetheInputException;
import dev.lethe.influence.InfluenceMethods;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LetheConfigTest {

  @Test
  void layersAndOverridesApplyInOrder() {
    LetheConfig c = LetheConfig.load("train { max-epochs = 7, batch-size = 32 }", "my.conf",
        List.of("train.max-epochs=3", "lethe.seed=9", "data.idx.train-images=hdfs://nn:8020/x/y.gz"));
    assertThat(c.getInt("train.max-epochs")).isEqualTo(3);
    assertThat(c.getInt("train.batch-size")).isEqualTo(32);
    assertThat(c.getLong("seed")).isEqualTo(9);
    assertThat(c.getString("data.idx.train-images")).isEqualTo("hdfs://nn:8020/x/y.gz");
    assertThat(Options.train(c).maxEpochs()).isEqualTo(3);
  }

  @Test
  void demoLayerShipsInTheJar() {
    LetheConfig c = LetheConfig.load(List.of(LetheConfig.classpathSource("lethe-conf/demo.conf")), List.of());
    assertThat(c.getDouble("noise.label-flip.rate")).isPositive();
    assertThat(c.getString("data.source")).isEqualTo("bundled");
  }

  @Test
  void demoRanksWithEveryMethodButTmcShapley() {
    LetheConfig demo = LetheConfig.load(List.of(LetheConfig.classpathSource("lethe-conf/demo.conf")), List.of());
    List<String> ranked = new ArrayList<>(demo.getStringList("pipeline.identify-methods"));
    ranked.add(demo.getString("identify.method"));
    List<String> expected = new ArrayList<>(InfluenceMethods.names());
    expected.remove("tmc-shapley");
    assertThat(ranked).containsExactlyInAnyOrderElementsOf(expected);
    assertThat(ranked.indexOf("ensemble")).isGreaterThan(ranked.indexOf("tracin"))
        .isGreaterThan(ranked.indexOf("linear-lissa"));
  }

  @Test
  void demoRepairsWithEveryMethodAndSingleKeysCanBeReplaced() {
    LetheConfig demo = LetheConfig.load(List.of(LetheConfig.classpathSource("lethe-conf/demo.conf")), List.of());
    assertThat(demo.getStringList("pipeline.repair-methods")).containsExactly("ewc-deletion", "newton-removal",
        "puma", "finetune", "finetune-fq", "finetune-combined");
    assertThat(LetheConfig.defaults().getStringList("pipeline.repair-methods")).isEmpty();
    LetheConfig finetune = demo.withString("repair.method", "finetune");
    assertThat(finetune.getString("repair.method")).isEqualTo("finetune");
    assertThat(finetune.getInt("repair.finetune.max-epochs")).isEqualTo(5);
    assertThat(demo.getString("repair.method")).isEqualTo("ewc-deletion");
    assertThat(finetune.toJson()).contains("\"method\":\"finetune\"");
    assertThatThrownBy(() -> demo.withString("repair.methd", "finetune")).isInstanceOf(LetheInputException.class)
        .hasMessageContaining("repair.methd");
    assertThatThrownBy(() -> LetheConfig.defaults().getStringList("repair.method"))
        .isInstanceOf(LetheInputException.class).hasMessageContaining("repair.method");
  }

  @Test
  void unknownKeysAndBadValuesNameTheKey() {
    assertThatThrownBy(() -> LetheConfig.load(null, null, List.of("train.max-epoch=3")))
        .isInstanceOf(LetheInputException.class).hasMessageContaining("unknown config key 'train.max-epoch'")
        .hasMessageContaining("max-epochs");
    assertThatThrownBy(() -> LetheConfig.load("tran.x = 1", "bad.conf", List.of()))
        .hasMessageContaining("bad.conf").hasMessageContaining("tran.x");
    LetheConfig c = LetheConfig.load(null, null, List.of("train.batch-size=many", "noise.label-flip.rate=-0.5"));
    assertThatThrownBy(() -> c.positiveInt("train.batch-size")).isInstanceOf(LetheInputException.class)
        .hasMessageContaining("train.batch-size");
    assertThatThrownBy(() -> Options.noise(c)).isInstanceOf(LetheInputException.class)
        .hasMessageContaining("noise.label-flip.rate");
    assertThatThrownBy(() -> LetheConfig.load(null, null, List.of("novalue")))
        .hasMessageContaining("expected key=value");
  }
}
