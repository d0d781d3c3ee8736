package dev.lethe.tests;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lethe.spark.Stage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A stage in a JVM of its own warms up Spark's Scala reflection in the background only when it will need it
 * ({@link Stage#initialisesScalaReflection}). Checked from the JVM's class-loading log: fisher, which reads internal
 * rows and writes bytes, must never load Scala's runtime reflection (warming it up there would cost a core-second
 * for nothing); identify loads it, which also shows that the log names the class this test looks for.
 */
class StageJvmTest {
  private static final String UNIVERSE = "scala.reflect.runtime.JavaUniverse ";

  @Test
  void onlyStagesThatNeedScalaReflectionLoadIt() throws Exception {
    assertThat(Stage.FISHER.initialisesScalaReflection()).isFalse();
    assertThat(Stage.IDENTIFY.initialisesScalaReflection()).isTrue();
    for (Stage stage : List.of(Stage.FISHER, Stage.IDENTIFY)) {
      Path work = SmallWorkdir.copy("jvm-" + stage.cliName());
      Path classes = work.resolveSibling(work.getFileName() + "-classes.log");
      List<String> args = new ArrayList<>(List.of(stage.cliName(), "--master", "local[2]", "--overwrite"));
      args.addAll(List.of(SmallWorkdir.args(work)));
      AppJar.Run r = AppJar.run(List.of("-Xlog:class+load=info:file=" + classes), args);
      assertThat(r.code()).as(r.err()).isZero();
      assertThat(Files.readString(classes).contains(UNIVERSE)).as("%s loads %s", stage.cliName(), UNIVERSE.trim())
          .isEqualTo(stage.initialisesScalaReflection());
    }
  }
}
