package dev.lethe.tests;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.lethe.data.ExampleSet;
import dev.lethe.model.SequenceBlobs;
import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A user's DL4J LSTM sequence classifier (LSTM over 3 features in LastTimeStep, softmax output), saved with
 * ModelSerializer, and Parquet tables whose feature column holds each sequence as one time-major row of 3 x 5
 * values, with {@code data.sequence-length = 5}, go through the stages fisher, identify (ewc-influence ranking) and
 * repair (ewc-deletion).
 */
class YourSequenceModelPipelineTest {
  @TempDir
  static Path dir;

  /** {@code s} as a Parquet table: row_id, features (array of double, time-major), y. */
  static String write(Path path, ExampleSet s) {
    StructType schema = new StructType().add("row_id", DataTypes.LongType, false)
        .add("features", DataTypes.createArrayType(DataTypes.DoubleType, false), false)
        .add("y", DataTypes.IntegerType, false);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < s.size(); i++) {
      float[] x = s.features(i);
      double[] d = new double[x.length];
      for (int j = 0; j < x.length; j++) {
        d[j] = x[j];
      }
      rows.add(RowFactory.create(s.id(i), d, s.label(i)));
    }
    SharedSpark.session().createDataFrame(rows, schema).coalesce(1).write().parquet(path.toString());
    return path.toString();
  }

  /** The settings that read the sequence tables and the model. */
  static List<String> settings(String train, String test, String model) {
    return List.of("--set", "data.source=parquet", "--set", "data.parquet.train=\"" + train + "\"",
        "--set", "data.parquet.test=\"" + test + "\"", "--set", "data.columns.id=row_id",
        "--set", "data.columns.label=y", "--set", "data.columns.features=[features]",
        "--set", "data.num-classes=3", "--set", "data.feature-range=[-100, 100]", "--set", "data.train-size=0",
        "--set", "data.test-size=0", "--set", "model.source=file", "--set", "model.path=\"" + model + "\"");
  }

  @Test
  void anLstmClassifierAndSequenceRowsReachARankingAndARepair() throws Exception {
    ExampleSet clean = SequenceBlobs.sample(120, 31, 0, 0);
    // every sixth training label moved to the next class
    ExampleSet fit = clean.withLabels(flipEvery(clean.labels(), 6), clean.corruptions());
    String train = write(dir.resolve("train.parquet"), fit);
    // test labels of every eighth row moved too: failures the model cannot get right
    ExampleSet t = SequenceBlobs.sample(96, 32, 100_000, 0);
    String test = write(dir.resolve("test.parquet"), t.withLabels(flipEvery(t.labels(), 8), t.corruptions()));
    MultiLayerNetwork net = SequenceBlobs.trained(fit, 30, 3);
    File model = dir.resolve("lstm.zip").toFile();
    ModelSerializer.writeModel(net, model, false);
    String wd = dir.resolve("work").toString();
    List<String> common = new ArrayList<>(List.of("--workdir", wd));
    common.addAll(settings(train, test, model.toString()));
    common.addAll(List.of("--set", "data.sequence-length=5", "--set", "identify.ewc.max-epochs=5",
        "--set", "repair.ewc-deletion.max-epochs=3"));
    SharedSpark.runThroughRepair(common, "ewc-deletion");

    assertThat(Path.of(wd, "fisher/diag.bin")).exists();
    assertThat(SharedSpark.session().read().parquet(wd + "/rankings/ewc-influence.parquet").count())
        .isEqualTo(120);
    Config rep = ConfigFactory.parseFile(Path.of(wd, "repair/ewc-deletion/report.json").toFile());
    // top 15% of 120 training rows
    assertThat(rep.getInt("selection.size")).isEqualTo(18);
    assertThat(rep.getString("status")).isIn("accepted", "rejected");
  }

  private static int[] flipEvery(int[] labels, int every) {
    int[] out = labels.clone();
    for (int i = 0; i < out.length; i += every) {
      out[i] = (out[i] + 1) % 3;
    }
    return out;
  }
}
