package dev.lethe.spark;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.lethe.config.LetheConfig;
import dev.lethe.config.Options;
import dev.lethe.data.ExampleSet;
import dev.lethe.data.NoiseInjector;
import dev.lethe.data.NoiseOptions;
import dev.lethe.influence.InfluenceMethods;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every ready config in conf/ (demo.conf, paper-*.conf) sets only keys of conf/reference.conf and parses into valid
 * options for every stage, before anyone spends an hour of CPU to find a typo. The files are read from the
 * repository (system property {@code lethe.repo.root}), not from the jar.
 */
class ConfFilesTest {
  private static Path conf;
  private static Config reference;
  private static List<Path> layers;

  @BeforeAll
  static void load() throws IOException {
    conf = Path.of(System.getProperty("lethe.repo.root")).resolve("conf");
    reference = ConfigFactory.parseFile(conf.resolve("reference.conf").toFile()).getConfig("lethe");
    try (Stream<Path> files = Files.list(conf)) {
      layers = files.filter(p -> p.getFileName().toString().endsWith(".conf"))
          .filter(p -> !p.getFileName().toString().equals("reference.conf")).sorted().toList();
    }
  }

  @Test
  void theReadyConfigsAreThere() {
    assertThat(layers.stream().map(p -> p.getFileName().toString())).contains("demo.conf", "paper-label-flip.conf",
        "paper-salt-pepper.conf", "paper-gaussian.conf", "paper-fgsm.conf");
  }

  @Test
  void everyKeyAConfigSetsIsAReferenceKey() {
    for (Path layer : layers) {
      Config file = ConfigFactory.parseFile(layer.toFile());
      assertThat(file.entrySet()).as(layer.toString()).isNotEmpty();
      for (var e : file.entrySet()) {
        assertThat(reference.hasPathOrNull(e.getKey())).as(layer.getFileName() + ": " + e.getKey()).isTrue();
      }
    }
  }

  @Test
  void everyConfigParsesIntoValidOptionsForEveryStage() throws IOException {
    for (Path layer : layers) {
      String name = layer.getFileName().toString();
      String text = Files.readString(layer, StandardCharsets.UTF_8);
      assertThatCode(() -> checkStages(LetheConfig.load(text, layer.toString(), List.of()), name)).as(name)
          .doesNotThrowAnyException();
      if (name.startsWith("paper-")) {
        assertThat(text).as(name + " says how to run it")
            .contains("./bin/lethe pipeline --workdir W --config conf/" + name);
      }
    }
  }

  /** Builds the options every stage builds before its work. */
  private static void checkStages(LetheConfig c, String name) {
    NoiseOptions noise = Options.noise(c);
    assertThat(noise.any()).as(name + " injects noise").isTrue();
    // class ranges are checked against data.num-classes when noise is applied (here to no rows: nothing is fitted)
    NoiseInjector.apply(ExampleSet.clean(new long[0], new float[0][], new int[0], 1), noise,
        c.positiveInt("data.num-classes"), 1);
    c.oneOf("data.source", "bundled", "idx", "parquet");
    Options.model(c);
    Options.train(c);
    Options.influence(c);
    InfluenceMethods.byName(c.getString("identify.method"));
    PipelineJob.identifyMethods(c);
    for (String method : PipelineJob.repairMethods(c)) {
      Stage.REPAIR.job().validate(c.withString("repair.method", method), new Configuration());
    }
  }
}
