package dev.lethe.tests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import dev.lethe.config.LetheConfig;
import dev.lethe.influence.InfluenceMethods;
import dev.lethe.spark.PipelineJob;
import dev.lethe.spark.Stage;
import dev.lethe.spark.StageRunner;
import dev.lethe.spark.cli.Console;
import dev.lethe.repair.RepairMethods;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.shade.jackson.databind.JsonNode;
import org.nd4j.shade.jackson.databind.ObjectMapper;

/**
 * The deploy files (deploy/spark-submit, deploy/airflow, deploy/databricks) name real things: main classes that
 * are in the shaded jar and have a {@code public static void main(String[])}, stage names of {@link Stage} in the
 * pipeline's order, config keys of conf/reference.conf, and identify/repair method names the registries know.
 * The files are parsed as text (the DAG with regular expressions, no Airflow needed) and the job JSON with
 * Jackson (ND4J's shaded copy: the test classpath mixes Spark's jackson-databind with an older jackson-core).
 */
class DeployFilesTest {
  private static final Pattern SET_KEY = Pattern.compile("--set[\"',\\s=]+([a-z][a-z0-9.-]*)=");
  /** Placeholders of usage texts ({@code --set key=value}, {@code --set k=v}), not keys. */
  private static final List<String> PLACEHOLDERS = List.of("key", "k");

  private static Path deploy;
  private static Path reference;
  private static Config referenceConf;
  private static List<String> pipelineStages;
  private static List<String> jarEntries;

  @BeforeAll
  static void load() throws IOException {
    Path root = Path.of(System.getProperty("lethe.repo.root"));
    deploy = root.resolve("deploy");
    reference = root.resolve("conf/reference.conf");
    referenceConf = ConfigFactory.parseFile(reference.toFile());
    pipelineStages = PipelineJob.STAGES.stream().map(Stage::cliName).toList();
    try (JarFile jar = new JarFile(System.getProperty("lethe.app.jar"))) {
      jarEntries = jar.stream().map(e -> e.getName()).toList();
    }
  }

  @Test
  void sparkSubmitScriptsNameEveryStageWithItsMainClass() throws IOException {
    String common = read("spark-submit/common.sh");
    Matcher stages = Pattern.compile("LETHE_STAGES=\\(([^)]*)\\)").matcher(common);
    assertThat(stages.find()).as("LETHE_STAGES in common.sh").isTrue();
    assertThat(List.of(stages.group(1).trim().split("\\s+"))).isEqualTo(pipelineStages);

    Map<String, String> classes = new LinkedHashMap<>();
    Matcher m = Pattern.compile("(?m)^\\s*([a-z]+)\\) echo \"([\\w.]+)\" ;;").matcher(common);
    while (m.find()) {
      classes.put(m.group(1), m.group(2));
    }
    List<String> expected = new ArrayList<>(pipelineStages);
    expected.add("pipeline");
    assertThat(classes.keySet()).as("stages of lethe_main_class in common.sh").containsExactlyElementsOf(expected);
    classes.forEach(DeployFilesTest::assertStageClass);

    for (String stage : expected) {
      Path script = deploy.resolve("spark-submit/" + stage + ".sh");
      assertThat(script).as("a script per stage").exists().isExecutable();
      if (!stage.equals("pipeline")) {
        assertThat(Files.readString(script)).contains("lethe_stage_main " + stage + " \"$@\"");
      }
    }
    assertSetKeysExist("spark-submit", allText("spark-submit"));

    Matcher opens = Pattern.compile("LETHE_JDK17_OPENS=\"([^\"]*)\"").matcher(common);
    assertThat(opens.find()).as("LETHE_JDK17_OPENS in common.sh").isTrue();
    assertThat(words(opens.group(1).replace("\\\n", " "))).as("the driver's JDK 17 flags")
        .isEqualTo(words(System.getProperty("lethe.jvm.opens")));
    assertThat(common).contains("executor_java+=\" -Dorg.bytedeco.javacpp.maxphysicalbytes=$ND4J_MAXPHYSICALBYTES\"")
        .contains("driver_java+=\" -Dorg.bytedeco.javacpp.maxphysicalbytes=$DRIVER_ND4J_MAXPHYSICALBYTES\"");
  }

  /** bin/lethe starts the driver (local mode: also the executors) with the pom's JDK 17 flags. */
  @Test
  void launcherPassesThePomsJvmFlags() throws IOException {
    String launcher = Files.readString(deploy.resolveSibling("bin/lethe"));
    Matcher opens = Pattern.compile("(?s)\\nOPENS=\\((.*?)\\n\\)").matcher(launcher);
    assertThat(opens.find()).as("OPENS=( ... ) in bin/lethe").isTrue();
    List<String> flags = new ArrayList<>(words(opens.group(1).replaceAll("(?m)^\\s*#.*$", "")));
    List<String> expected = new ArrayList<>(words(System.getProperty("lethe.jvm.opens")));
    assertThat(flags).isEqualTo(expected);
    assertThat(launcher).contains("exec \"$JAVA\" \"${OPENS[@]}\"");
  }

  private static List<String> words(String s) {
    return List.of(s.trim().split("\\s+"));
  }

  @Test
  void airflowDagNamesRealClassesStagesKeysAndMethods() throws IOException {
    String dag = read("airflow/lethe_dag.py");
    assertThat(pythonStrings(dag, "STAGES")).as("STAGES in the DAG").isEqualTo(pipelineStages);

    Map<String, String> classes = new LinkedHashMap<>();
    Matcher block = Pattern.compile("MAIN_CLASSES = \\{(.*?)\\}", Pattern.DOTALL).matcher(dag);
    assertThat(block.find()).as("MAIN_CLASSES in the DAG").isTrue();
    Matcher m = Pattern.compile("\"([a-z]+)\":\\s*\"([\\w.]+)\"").matcher(block.group(1));
    while (m.find()) {
      classes.put(m.group(1), m.group(2));
    }
    assertThat(classes.keySet()).containsExactlyElementsOf(pipelineStages);
    classes.forEach(DeployFilesTest::assertStageClass);

    Matcher opens = Pattern.compile("JDK17_OPENS = \\((.*?)\\)", Pattern.DOTALL).matcher(dag);
    assertThat(opens.find()).as("JDK17_OPENS in the DAG").isTrue();
    assertThat(words(String.join("", pythonStringsIn(opens.group(1))))).as("the driver's JDK 17 flags")
        .isEqualTo(words(System.getProperty("lethe.jvm.opens")));
    assertThat(dag).contains("maxphysicalbytes=10G \"\n        + JDK17_OPENS\n").contains("maxphysicalbytes=8G\"\n");

    assertThat(pythonStrings(dag, "IDENTIFY_METHODS")).isEqualTo(InfluenceMethods.names());
    assertThat(pythonStrings(dag, "REPAIR_METHODS")).isEqualTo(RepairMethods.names());

    // BASE_ARGS: "--set", "key={{ params.x }}"
    List<String> keys = new ArrayList<>();
    Matcher set = Pattern.compile("\"--set\",\\s*\"([a-z][a-z0-9.-]*)=").matcher(dag);
    while (set.find()) {
      keys.add(set.group(1));
    }
    assertThat(keys).as("--set keys of BASE_ARGS").containsExactly("identify.method", "repair.method",
        "repair.ranking");
    assertSetKeysExist("airflow", allText("airflow"));
    // README's trigger example: "sets": ["key=value", ...]
    Matcher sets = Pattern.compile("\"sets\": \\[(.*?)\\]", Pattern.DOTALL).matcher(read("airflow/README.md"));
    while (sets.find()) {
      Matcher kv = Pattern.compile("\"([a-z][a-z0-9.-]*)=").matcher(sets.group(1));
      while (kv.find()) {
        assertKey("airflow/README.md sets", kv.group(1));
      }
    }

    // t["prepare"] >> t["train"] >> ... : the chain is the pipeline order
    Matcher chain = Pattern.compile("(?m)^\\s*(t\\[\"[a-z]+\"\\](?:\\s*>>\\s*t\\[\"[a-z]+\"\\])+)\\s*$").matcher(dag);
    assertThat(chain.find()).as("the task chain of the DAG").isTrue();
    List<String> order = new ArrayList<>();
    Matcher task = Pattern.compile("t\\[\"([a-z]+)\"\\]").matcher(chain.group(1));
    while (task.find()) {
      order.add(task.group(1));
    }
    assertThat(order).isEqualTo(pipelineStages);
  }

  @Test
  void databricksJobNamesRealClassesStagesKeysAndDependencies() throws Exception {
    JsonNode job = new ObjectMapper().readTree(deploy.resolve("databricks/lethe-job.json").toFile());
    String version = job.at("/job_clusters/0/new_cluster/spark_version").asText();
    for (String who : List.of("driver", "executor")) {
      String options = job.at("/job_clusters/0/new_cluster/spark_conf").get("spark." + who + ".extraJavaOptions")
          .asText();
      assertThat(words(options)).as("spark.%s.extraJavaOptions of the job cluster", who)
          .contains("-Dorg.bytedeco.javacpp.maxbytes=4G");
    }
    assertThat(version).as("Databricks runtime: 16.4 LTS, Scala 2.12").startsWith("16.4.").endsWith("-scala2.12");

    List<String> jobParams = new ArrayList<>();
    job.get("parameters").forEach(p -> jobParams.add(p.get("name").asText()));
    Map<String, JsonNode> tasks = new LinkedHashMap<>();
    job.get("tasks").forEach(t -> tasks.put(t.get("task_key").asText(), t));
    assertThat(tasks.keySet()).as("one task per stage").containsExactlyInAnyOrderElementsOf(pipelineStages);
    String jarName = Path.of(System.getProperty("lethe.app.jar")).getFileName().toString();

    for (Map.Entry<String, JsonNode> e : tasks.entrySet()) {
      String stage = e.getKey();
      JsonNode t = e.getValue();
      assertStageClass(stage, t.at("/spark_jar_task/main_class_name").asText());
      assertThat(t.at("/libraries/0/jar").asText()).as("jar of task %s", stage).endsWith("/" + jarName);
      List<String> params = new ArrayList<>();
      t.at("/spark_jar_task/parameters").forEach(p -> params.add(p.asText()));
      assertThat(params).as("parameters of task %s", stage).contains("--workdir").doesNotContain("--master");
      for (int i = 0; i < params.size(); i++) {
        if (params.get(i).equals("--set")) {
          String kv = params.get(i + 1);
          assertThat(kv).as("--set value of task %s", stage).contains("=");
          assertKey("databricks task " + stage, kv.substring(0, kv.indexOf('=')));
        }
        Matcher ref = Pattern.compile("\\{\\{job\\.parameters\\.([a-z_]+)\\}\\}").matcher(params.get(i));
        while (ref.find()) {
          assertThat(jobParams).as("job parameter referenced by task %s", stage).contains(ref.group(1));
        }
      }
      for (JsonNode d : t.path("depends_on")) {
        assertThat(tasks).as("dependency of task %s", stage).containsKey(d.get("task_key").asText());
      }
    }

    // Dependencies form the pipeline chain: each task depends exactly on the stage before it.
    for (int i = 0; i < pipelineStages.size(); i++) {
      List<String> deps = new ArrayList<>();
      tasks.get(pipelineStages.get(i)).path("depends_on").forEach(d -> deps.add(d.get("task_key").asText()));
      assertThat(deps).as("depends_on of %s", pipelineStages.get(i))
          .isEqualTo(i == 0 ? List.of() : List.of(pipelineStages.get(i - 1)));
    }
    assertSetKeysExist("databricks", allText("databricks"));
  }

  @Test
  void databricksNotebookCallsARealEntryPointWithRealNames() throws Exception {
    String nb = read("databricks/lethe_notebook.scala");
    assertThat(nb).contains("dev.lethe.spark.StageRunner.run(stage, stageArgs, console)")
        .contains("new dev.lethe.spark.cli.Console(scala.Console.out, scala.Console.err)");
    Method run = StageRunner.class.getMethod("run", String.class, String[].class, Console.class);
    assertThat(Modifier.isStatic(run.getModifiers())).isTrue();
    assertThat(run.getReturnType()).isEqualTo(int.class);
    assertThat(Console.class.getConstructor(PrintStream.class, PrintStream.class)).isNotNull();

    Matcher stages = Pattern.compile("widgets\\.text\\(\"stages\", \"([a-z,]+)\"").matcher(nb);
    assertThat(stages.find()).as("stages widget").isTrue();
    assertThat(List.of(stages.group(1).split(","))).isEqualTo(pipelineStages);
    assertThat(scalaSeq(nb, "identify_method")).isEqualTo(InfluenceMethods.names());
    assertThat(scalaSeq(nb, "repair_method")).isEqualTo(RepairMethods.names());
    Matcher set = Pattern.compile("\"--set\", s\"([a-z][a-z0-9.-]*)=").matcher(nb);
    int n = 0;
    while (set.find()) {
      assertKey("notebook", set.group(1));
      n++;
    }
    assertThat(n).isEqualTo(3);
  }

  /** A stage's main class: in the shaded jar, named {@code <Stage>Job}, with {@code public static main}. */
  private static void assertStageClass(String stage, String className) {
    Stage.byName(stage);
    String simple = stage.substring(0, 1).toUpperCase(Locale.ROOT) + stage.substring(1) + "Job";
    assertThat(className).as("main class of stage %s", stage).isEqualTo("dev.lethe.spark." + simple);
    assertThat(jarEntries).as("entries of %s", System.getProperty("lethe.app.jar"))
        .contains(className.replace('.', '/') + ".class");
    try {
      Method main = Class.forName(className).getMethod("main", String[].class);
      assertThat(Modifier.isStatic(main.getModifiers()) && Modifier.isPublic(main.getModifiers()))
          .as("%s.main is public static", className).isTrue();
    } catch (ReflectiveOperationException e) {
      fail("main class %s of stage %s: %s", className, stage, e);
    }
  }

  /** Every {@code --set key=} in the text names a key of conf/reference.conf that LetheConfig accepts. */
  private static void assertSetKeysExist(String where, String text) {
    Matcher m = SET_KEY.matcher(text);
    int n = 0;
    while (m.find()) {
      if (PLACEHOLDERS.contains(m.group(1))) {
        continue;
      }
      assertKey(where, m.group(1));
      n++;
    }
    assertThat(n).as("--set occurrences in %s", where).isPositive();
  }

  private static void assertKey(String where, String key) {
    assertThat(referenceConf.hasPath("lethe." + key)).as("%s: --set %s is a key of %s", where, key, reference)
        .isTrue();
    // and the loader accepts it as an override (it rejects unknown keys, naming them)
    String value = referenceConf.getValue("lethe." + key).render(ConfigRenderOptions.concise());
    assertThat(LetheConfig.load(List.of(), List.of(key + "=" + value))).isNotNull();
  }

  private static List<String> pythonStrings(String py, String name) {
    Matcher m = Pattern.compile("(?m)^" + name + " = \\[([^\\]]*)\\]").matcher(py);
    assertThat(m.find()).as("list %s", name).isTrue();
    return pythonStringsIn(m.group(1));
  }

  private static List<String> pythonStringsIn(String text) {
    List<String> out = new ArrayList<>();
    Matcher s = Pattern.compile("\"([^\"]*)\"").matcher(text);
    while (s.find()) {
      out.add(s.group(1));
    }
    return out;
  }

  private static List<String> scalaSeq(String scala, String widget) {
    Matcher m = Pattern.compile("dropdown\\(\"" + widget + "\", \"[^\"]*\",\\s*Seq\\(([^)]*)\\)").matcher(scala);
    assertThat(m.find()).as("dropdown %s", widget).isTrue();
    List<String> out = new ArrayList<>();
    Matcher s = Pattern.compile("\"([^\"]*)\"").matcher(m.group(1));
    while (s.find()) {
      out.add(s.group(1));
    }
    return out;
  }

  private static String read(String rel) throws IOException {
    return Files.readString(deploy.resolve(rel));
  }

  private static String allText(String sub) throws IOException {
    StringBuilder all = new StringBuilder();
    try (Stream<Path> s = Files.walk(deploy.resolve(sub))) {
      for (Path p : s.filter(Files::isRegularFile).sorted().toList()) {
        all.append(Files.readString(p)).append('\n');
      }
    }
    return all.toString();
  }
}
