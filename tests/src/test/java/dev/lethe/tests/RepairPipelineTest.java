package dev.lethe.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole pipeline, prepare -> train -> failures -> fisher -> identify -> repair (every repair, finetune
 * with dl4j-spark parameter averaging) -> report, on 300 training images (36 label flips) with a small MLP and the
 * oracle ranking.
 */
class RepairPipelineTest {
  static final List<String> METHODS = List.of("ewc-deletion", "newton-removal", "puma", "finetune", "finetune-fq",
      "finetune-combined");

  @TempDir
  static Path dir;

  @Test
  void pipelineRepairsWithEveryTreatmentAndReports() {
    String wd = dir.resolve("work").toString();
    SharedSpark.Run r = SharedSpark.run("pipeline", "--workdir", wd, "--method", "oracle",
        "--set", "data.train-size=300", "--set", "data.test-size=200", "--set", "noise.label-flip.rate=0.2",
        "--set", "model.architecture=mlp", "--set", "model.hidden=[32]", "--set", "train.max-epochs=3",
        "--set", "pipeline.repair-methods=[" + String.join(", ", METHODS) + "]",
        "--set", "repair.ewc-deletion.max-epochs=3", "--set", "repair.newton-removal.curvature-samples=100",
        "--set", "repair.newton-removal.cg.max-iterations=20", "--set", "repair.finetune.max-epochs=2",
        "--set", "repair.finetune.distributed=true", "--set", "train.averaging-frequency=2");
    assertThat(r.code()).as(r.err()).isZero();
    String out = r.out();
    assertThat(out).contains("== identify").contains("== report").contains("pipeline done in");
    for (String m : METHODS) {
      assertThat(out).contains("== repair " + m).containsPattern("\\n  " + m + " +45  ");
      Config rep = ConfigFactory.parseFile(Path.of(wd, "repair", m, "report.json").toFile());
      assertThat(rep.getString("ranking.table")).isEqualTo("rankings/oracle.parquet");
      // top 15% of 300 = 45; the oracle ranks the 36 flips first
      assertThat(rep.getInt("selection.size")).isEqualTo(45);
      assertThat(rep.getInt("corruption.in_selection")).isEqualTo(36);
      assertThat(rep.getDouble("after.correct_holdout")).isBetween(0.0, 1.0);
      assertThat(rep.getString("status")).isIn("accepted", "rejected");
      assertThat(rep.getConfigList("frontier")).isNotEmpty();
      Config prov = ConfigFactory.parseFile(Path.of(wd, "repair", m + ".provenance.json").toFile());
      assertThat(prov.getString("config.repair.method")).isEqualTo(m);
    }
    Config finetune = ConfigFactory.parseFile(Path.of(wd, "repair/finetune/report.json").toFile());
    assertThat(finetune.getBoolean("distributed")).isTrue();
    // one path per learning rate of the grid, each at most repair.finetune.max-epochs long
    int rates = dev.lethe.repair.RepairOptions.Search.defaults().finetuneLearningRate().length;
    assertThat(finetune.getConfigList("frontier")).extracting(c -> c.getInt("setting"))
        .containsOnly(java.util.stream.IntStream.range(0, rates).boxed().toArray(Integer[]::new));
    assertThat(finetune.getConfigList("frontier")).extracting(c -> c.getInt("knobs.epoch")).containsOnly(1, 2);
    Config ewc = ConfigFactory.parseFile(Path.of(wd, "repair/ewc-deletion/report.json").toFile());
    assertThat(ewc.getBoolean("distributed")).isFalse();

    // the summary table, one row per method, sorted by name
    assertThat(out).containsPattern("method +\\|C\\| +Fq +B +Fh +T\\\\F holdout +test +status +seconds +chosen point");
    Config summary = ConfigFactory.parseFile(Path.of(wd, "report/summary.json").toFile());
    assertThat(summary.getConfigList("repairs")).extracting(c -> c.getString("method"))
        .containsExactly("ewc-deletion", "finetune", "finetune-combined", "finetune-fq", "newton-removal", "puma");
    assertThat(summary.getConfigList("identification")).extracting(c -> c.getString("method"))
        .containsExactly("oracle");
    assertThat(Path.of(wd, "report/index.html")).exists();
    assertThat(Path.of(wd, "report/identification.png")).exists();
    assertThat(Path.of(wd, "report/repair-tradeoff.png")).exists();
  }

  @Test
  void unknownRepairMethodStopsThePipelineBeforeAnyStage() {
    String wd = dir.resolve("bad").toString();
    SharedSpark.Run r = SharedSpark.run("pipeline", "--workdir", wd,
        "--set", "pipeline.repair-methods=[ewc-deletion, unlearn-harder]");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("pipeline.repair-methods").contains("unlearn-harder");
    assertThat(Path.of(wd, "data")).doesNotExist();
  }
}
