package dev.lethe.spark.io;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lethe.LetheInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A missing input of a workdir written by an earlier version names the file under its former name. */
class WorkdirTest {
  @TempDir Path dir;

  @Test
  void missingRankingNamesTheFormerCulpritsTable() throws IOException {
    Files.createDirectories(dir.resolve("culprits/oracle.parquet"));
    Files.createFile(dir.resolve("culprits/oracle.parquet/_SUCCESS"));
    Workdir wd = Workdir.open(dir.toString(), new Configuration(), false);
    assertThatThrownBy(() -> wd.requireInput(WorkdirLayout.ranking("oracle"), "identify --method oracle"))
        .isInstanceOf(LetheInputException.class).hasMessageContaining("rankings/oracle.parquet is missing")
        .hasMessageContaining("culprits/oracle.parquet").hasMessageContaining("rename it to rankings/oracle.parquet");
  }

  @Test
  void missingCorrectHoldoutNamesTheFormerRemainingTable() throws IOException {
    Files.createDirectories(dir.resolve("failures/remaining.parquet"));
    Workdir wd = Workdir.open(dir.toString(), new Configuration(), false);
    assertThatThrownBy(() -> wd.requireInput(WorkdirLayout.CORRECT_HOLDOUT, "failures"))
        .isInstanceOf(LetheInputException.class).hasMessageContaining("failures/remaining.parquet")
        .hasMessageContaining("rename it to failures/correct-holdout.parquet");
  }

  @Test
  void missingInputWithoutAFormerNameSaysWhichStageWritesIt() {
    Workdir wd = Workdir.open(dir.toString(), new Configuration(), false);
    assertThatThrownBy(() -> wd.requireInput(WorkdirLayout.ranking("oracle"), "identify --method oracle"))
        .isInstanceOf(LetheInputException.class)
        .hasMessageContaining("is missing: run `lethe identify --method oracle` first");
  }
}
