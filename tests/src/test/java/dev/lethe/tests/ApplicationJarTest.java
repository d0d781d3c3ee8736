package dev.lethe.tests;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/**
 * The application jar is the product only: the benchmark harness (module {@code bench}) is not in it, and its
 * {@code bench} command says how to run the benchmarks instead of failing obscurely.
 */
class ApplicationJarTest {

  @Test
  void holdsNoBenchmarkCode() throws Exception {
    Path jar = Path.of(System.getProperty("lethe.app.jar"));
    try (JarFile j = new JarFile(jar.toFile())) {
      List<String> names = j.stream().map(e -> e.getName()).toList();
      assertThat(names).as("the application jar's stages").contains("dev/lethe/spark/LetheMain.class",
          "dev/lethe/spark/BenchCommand.class");
      assertThat(names).filteredOn(n -> n.startsWith("dev/lethe/")).noneMatch(n -> n.startsWith("dev/lethe/bench/")
          || n.startsWith("dev/lethe/spark/bench/") || n.endsWith("/GemmRate.class") || n.endsWith("/Flops.class"));
      assertThat(names).doesNotContain("META-INF/services/dev.lethe.spark.BenchCommand");
    }
  }

  @Test
  void benchWithoutTheBenchModuleIsBadInputNamingTheLauncher() throws Exception {
    Path root = Files.createDirectories(Path.of(System.getProperty("lethe.test.tmp",
        System.getProperty("java.io.tmpdir"))));
    Path out = Files.createTempDirectory(root, "bench-absent");
    AppJar.Run r = AppJar.run(List.of("bench", "--workdir", out.resolve("bench").toString(), "--master", "local[1]"));
    assertThat(r.code()).as(r.err()).isEqualTo(2);
    assertThat(r.err()).contains("./bin/lethe bench");
    assertThat(out.resolve("bench")).doesNotExist();
  }
}
