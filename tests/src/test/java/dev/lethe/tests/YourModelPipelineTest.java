package dev.lethe.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A user's Keras .h5 classifier (a real HDF5 file, fitted on the data's distribution) and tabular Parquet tables
 * with one column per feature go through the pipeline to a ranking table and a repair, without the train stage.
 */
class YourModelPipelineTest {
  @TempDir
  static Path dir;

  @Test
  void aKerasModelAndTabularTablesReachCulpritsAndARepair() {
    String train = TabularTables.write(dir.resolve("train.parquet"), 240, 31, 0, 6);
    String test = TabularTables.write(dir.resolve("test.parquet"), 160, 32, 100_000, 0);
    String model = TabularTables.model(dir, "keras-sequential-mlp.h5");
    String wd = dir.resolve("work").toString();
    List<String> args = new ArrayList<>(List.of("--workdir", wd));
    args.addAll(TabularTables.settings(train, test, model));
    args.addAll(List.of("--set", "pipeline.repair-methods=[ewc-deletion]", "--set", "identify.ewc.max-epochs=5",
        "--set", "repair.ewc-deletion.max-epochs=3"));
    SharedSpark.Run r = SharedSpark.run("pipeline", args.toArray(new String[0]));
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out()).contains("== train: skipped (model.source = file: " + model + ")")
        .contains("== identify").contains("== repair ewc-deletion").contains("pipeline done in");
    assertThat(Path.of(wd, "model/base.zip")).doesNotExist();
    assertThat(Path.of(wd, "rankings/ewc-influence.parquet/_SUCCESS")).exists();
    Config prov = ConfigFactory.parseFile(Path.of(wd, "rankings/ewc-influence.parquet.provenance.json").toFile());
    assertThat(prov.getConfigList("inputs")).anySatisfy(in -> {
      assertThat(in.getString("path")).endsWith(model);
      assertThat(in.getString("fingerprint")).isNotBlank();
    });
    Config rep = ConfigFactory.parseFile(Path.of(wd, "repair/ewc-deletion/report.json").toFile());
    // top 15% of 240 training rows
    assertThat(rep.getInt("selection.size")).isEqualTo(36);
    assertThat(rep.getString("status")).isIn("accepted", "rejected");
    assertThat(SharedSpark.session().read().parquet(wd + "/rankings/ewc-influence.parquet").count())
        .isEqualTo(240);
  }
}
