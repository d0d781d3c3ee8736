package dev.lethe.tests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input stops a stage with exit code 2, one message naming the input and the problem, and no output left
 * behind.
 */
class BadInputTest {
  @TempDir
  static Path dir;
  static Path images;
  static Path labels;

  @BeforeAll
  static void idxFiles() throws IOException {
    ByteBuffer img = ByteBuffer.allocate(16 + 4 * 28 * 28);
    img.putInt(2051).putInt(4).putInt(28).putInt(28);
    images = Files.write(dir.resolve("images.idx"), img.array());
    labels = Files.write(dir.resolve("labels.idx"),
        ByteBuffer.allocate(12).putInt(2049).putInt(4).put(new byte[] {0, 1, 2, 3}).array());
  }

  private static SharedSpark.Run prepareIdx(Path work, Path trainImages, Path trainLabels, String... extra) {
    List<String> a = new ArrayList<>(List.of("--workdir", work.toString(), "--set", "data.source=idx",
        "--set", "data.idx.train-images=" + trainImages, "--set", "data.idx.train-labels=" + trainLabels,
        "--set", "data.idx.test-images=" + images, "--set", "data.idx.test-labels=" + labels));
    a.addAll(List.of(extra));
    return SharedSpark.run("prepare", a.toArray(new String[0]));
  }

  private static void assertBadInput(SharedSpark.Run r, Path work, String... mentions) {
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err()).startsWith("lethe prepare: error: ").contains(mentions);
    assertThat(r.err().lines().count()).isEqualTo(1);
    assertThat(work.resolve("data")).doesNotExist();
    assertThat(work.resolve("_staging")).doesNotExist();
  }

  @Test
  void smallIdxFilesPrepare() {
    Path work = dir.resolve("ok");
    SharedSpark.Run r = prepareIdx(work, images, labels, "--set", "data.train-size=0", "--set", "data.test-size=0");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(work.resolve("data/train.parquet/_SUCCESS")).exists();
  }

  @Test
  void missingFile() {
    Path work = dir.resolve("missing");
    Path nope = dir.resolve("no-such-images.idx.gz");
    assertBadInput(prepareIdx(work, nope, labels), work, "data.idx.train-images", nope.toString(), "not found");
  }

  @Test
  void wrongMagicNumber() {
    Path work = dir.resolve("magic");
    assertBadInput(prepareIdx(work, labels, labels), work, labels.toString(), "wrong magic number");
  }

  @Test
  void truncatedFile() throws IOException {
    Path work = dir.resolve("truncated");
    byte[] all = Files.readAllBytes(images);
    Path cut = Files.write(dir.resolve("cut.idx"), java.util.Arrays.copyOf(all, all.length - 100));
    assertBadInput(prepareIdx(work, cut, labels), work, cut.toString(), "truncated");
  }

  @Test
  void featureLengthMismatch() {
    Path work = dir.resolve("geometry");
    assertBadInput(prepareIdx(work, images, labels, "--set", "data.height=32"), work, "784", "896");
  }

  @Test
  void parquetWithWrongFeatureLength() {
    Path table = dir.resolve("short-features.parquet");
    StructType schema = new StructType()
        .add("id", DataTypes.LongType, false)
        .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false)
        .add("label", DataTypes.IntegerType, false)
        .add("original_label", DataTypes.IntegerType, false)
        .add("corruption", DataTypes.StringType, false);
    List<Row> rows = List.of(RowFactory.create(1L, new Float[] {0f, 1f, 0.5f}, 1, 1, "none"));
    SharedSpark.session().createDataFrame(rows, schema).write().parquet(table.toString());
    Path work = dir.resolve("parquet");
    SharedSpark.Run r = SharedSpark.run("prepare", "--workdir", work.toString(), "--set", "data.source=parquet",
        "--set", "data.parquet.train=" + table, "--set", "data.parquet.test=" + table);
    assertBadInput(r, work, table.toString(), "id 1 has 3 features", "784");
  }

  @Test
  void invalidConfigNamesTheKey() {
    Path work = dir.resolve("config");
    SharedSpark.Run r = SharedSpark.run("prepare", "--workdir", work.toString(), "--set", "noise.label-flip.rate=1.5");
    assertBadInput(r, work, "noise.label-flip.rate");
    SharedSpark.Run typo = SharedSpark.run("prepare", "--workdir", work.toString(), "--set", "data.sourse=idx");
    assertBadInput(typo, work, "unknown config key 'data.sourse'");
  }

  @Test
  void laterStageWithoutItsInputSaysWhichStageToRun() {
    Path work = dir.resolve("empty");
    SharedSpark.Run r = SharedSpark.run("failures", "--workdir", work.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("data/test.parquet").contains("lethe prepare");
  }

  /** The real launcher path: a separate JVM running the application jar exits with status 2. */
  @Test
  void applicationJarExitsWithStatusTwo() throws Exception {
    Path root = Path.of(System.getProperty("lethe.repo.root"));
    Path jar = Path.of(System.getProperty("lethe.app.jar"));
    String provided = Files.readString(root.resolve("spark-jobs/target/provided-classpath.txt")).trim();
    Path work = dir.resolve("process");
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    cmd.addAll(List.of(System.getProperty("lethe.jvm.opens", "").split(" ")));
    cmd.removeIf(String::isBlank);
    cmd.addAll(List.of("-Xmx1g", "-cp", jar + ":" + provided, "dev.lethe.spark.LetheMain", "prepare",
        "--workdir", work.toString(), "--set", "data.source=idx", "--set", "data.idx.train-images=/nonexistent/x.gz",
        "--set", "data.idx.train-labels=" + labels, "--set", "data.idx.test-images=" + images,
        "--set", "data.idx.test-labels=" + labels, "--master", "local[1]"));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD);
    pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    Process p = pb.start();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    p.getErrorStream().transferTo(err);
    assertThat(p.waitFor()).isEqualTo(2);
    assertThat(err.toString()).contains("lethe prepare: error: data.idx.train-images /nonexistent/x.gz: file not found");
    assertThat(work.resolve("data")).doesNotExist();
  }
}
