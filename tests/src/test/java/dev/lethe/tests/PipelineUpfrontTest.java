package dev.lethe.tests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * {@code pipeline} checks every stage's settings and prepare's inputs before its first stage: a bad setting of a
 * later stage stops the run with exit 2 and one line naming the key, and nothing is computed or published.
 */
class PipelineUpfrontTest {

  private static SharedSpark.Run pipeline(Path work, String... extra) {
    List<String> a = new ArrayList<>(List.of(SmallWorkdir.args(work)));
    a.addAll(List.of(extra));
    return SharedSpark.run("pipeline", a.toArray(new String[0]));
  }

  private static void assertNothingRan(SharedSpark.Run r, Path work, String line) throws IOException {
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err().lines().toList()).containsExactly(line);
    assertThat(r.out()).doesNotContain("== prepare");
    if (Files.exists(work)) {
      try (Stream<Path> left = Files.list(work)) {
        assertThat(left.toList()).isEmpty();
      }
    }
  }

  @Test
  void badIdentifySetting() throws IOException {
    Path work = SmallWorkdir.newDir("late-gamma");
    assertNothingRan(pipeline(work, "--set", "identify.ewc.gamma=-1"), work,
        "lethe pipeline: error: config key 'identify.ewc.gamma': must be finite and > 0, got -1.0");
  }

  @Test
  void badFailuresSetting() throws IOException {
    Path work = SmallWorkdir.newDir("late-fraction");
    assertNothingRan(pipeline(work, "--set", "failures.query-fraction=2"), work,
        "lethe pipeline: error: config key 'failures.query-fraction': must be in [0.0, 1.0], got 2.0");
  }

  /** A setting of an identify method the pipeline runs besides identify.method. */
  @Test
  void badSettingOfAnAdditionalIdentifyMethod() throws IOException {
    Path work = SmallWorkdir.newDir("late-linear");
    assertNothingRan(pipeline(work, "--set", "pipeline.identify-methods=[linear-cg]", "--set",
        "identify.linear.cg.max-iterations=0"), work,
        "lethe pipeline: error: config key 'identify.linear.cg.max-iterations': must be >= 1, got 0");
  }

  /** tracin reads the checkpoints train keeps: a pipeline whose train keeps none stops before prepare. */
  @Test
  void tracinWithoutCheckpoints() throws IOException {
    Path work = SmallWorkdir.newDir("late-checkpoints");
    assertNothingRan(pipeline(work, "--set", "pipeline.identify-methods=[tracin]", "--set", "train.checkpoints=0"),
        work, "lethe pipeline: error: config key 'train.checkpoints': tracin need the training checkpoints, but this"
        + " pipeline's train keeps none (train.checkpoints = 0, train.distributed = true or model.source = file)");
  }

  @Test
  void missingInputFile() throws IOException {
    Path work = SmallWorkdir.newDir("late-input");
    Path nope = work.resolveSibling("no-such-file.idx");
    assertNothingRan(pipeline(work, "--set", "data.source=idx", "--set", "data.idx.train-images=" + nope,
        "--set", "data.idx.train-labels=" + nope, "--set", "data.idx.test-images=" + nope,
        "--set", "data.idx.test-labels=" + nope), work,
        "lethe pipeline: error: data.idx.train-images " + nope + ": file not found");
  }

  /** An output of a later stage that exists (without --overwrite) stops the run before prepare, too. */
  @Test
  void existingLaterOutput() throws IOException {
    Path work = SmallWorkdir.newDir("late-output");
    Files.createDirectories(work.resolve("report"));
    SharedSpark.Run r = pipeline(work);
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err().lines().toList()).containsExactly("lethe pipeline: error: output file:"
        + work.resolve("report") + " already exists; pass --overwrite to replace it");
    try (Stream<Path> left = Files.list(work)) {
      assertThat(left.map(p -> p.getFileName().toString()).toList()).containsExactly("report");
    }
  }
}
