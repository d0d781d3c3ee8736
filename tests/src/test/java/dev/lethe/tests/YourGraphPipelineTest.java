package dev.lethe.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.lethe.data.ExampleSet;
import dev.lethe.model.BranchingGraphs;
import dev.lethe.model.TabularBlobs;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A user's DL4J ComputationGraph that is not a chain (two branches merged, a residual addition, batch normalisation
 * on a branch, dropout), saved with ModelSerializer, and tabular Parquet tables go through the stages fisher,
 * identify (ewc-influence ranking) and repair (ewc-deletion); the repaired model is a ComputationGraph zip.
 */
class YourGraphPipelineTest {
  @TempDir
  static Path dir;

  @Test
  void aBranchingGraphWithBatchNormOnABranchReachesARankingAndARepair() throws Exception {
    String train = TabularTables.write(dir.resolve("train.parquet"), 240, 31, 0, 6);
    String test = TabularTables.write(dir.resolve("test.parquet"), 160, 32, 100_000, 0);
    ExampleSet fit = TabularBlobs.sample(240, 31, 0);
    ComputationGraph g = BranchingGraphs.trained(BranchingGraphs.branching(true), fit, 40);
    File model = dir.resolve("graph.zip").toFile();
    ModelSerializer.writeModel(g, model, false);
    String wd = dir.resolve("work").toString();
    List<String> common = new ArrayList<>(List.of("--workdir", wd));
    common.addAll(TabularTables.settings(train, test, model.toString()));
    common.addAll(List.of("--set", "identify.ewc.max-epochs=5", "--set", "repair.ewc-deletion.max-epochs=3"));
    SharedSpark.runThroughRepair(common, "ewc-deletion");

    assertThat(Path.of(wd, "fisher/diag.bin")).exists();
    assertThat(SharedSpark.session().read().parquet(wd + "/rankings/ewc-influence.parquet").count())
        .isEqualTo(240);
    Config rep = ConfigFactory.parseFile(Path.of(wd, "repair/ewc-deletion/report.json").toFile());
    assertThat(rep.getInt("selection.size")).isEqualTo(36);
    String status = rep.getString("status");
    assertThat(status).isIn("accepted", "rejected");
    Path zip = Path.of(wd, "repair/ewc-deletion", status.equals("accepted") ? "model.zip" : "model-rejected.zip");
    ComputationGraph repaired = ModelSerializer.restoreComputationGraph(Files.newInputStream(zip), false);
    // the inference form: the batch normalisation folded into the dense layer before it
    assertThat(repaired.getConfiguration().getVertices()).containsKeys("a", "b", "merge", "add", "out")
        .doesNotContainKey("bnB");
  }
}
