package dev.lethe.spark;

import dev.lethe.data.ExampleSet;
import dev.lethe.math.DiagonalFisher;
import dev.lethe.spark.exec.ModelBytes;
import dev.lethe.spark.exec.TaskThreads;
import dev.lethe.treatment.Knobs;
import dev.lethe.treatment.OperatingPointSearch;
import dev.lethe.treatment.PathRecorder.SettingOutcome;
import dev.lethe.treatment.RepairEvaluation.Accuracies;
import dev.lethe.treatment.RepairEvaluation.Guardrail;
import dev.lethe.treatment.RepairEvaluation.Sets;
import dev.lethe.treatment.TreatmentInputs;
import dev.lethe.treatment.TreatmentMethod;
import dev.lethe.treatment.TreatmentMethods;
import dev.lethe.treatment.TreatmentOptions;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.spark.broadcast.Broadcast;

/**
 * Runs the operating-point search of one treatment: every setting of its grid as one Spark task (the inputs travel
 * once, as a broadcast with the network as bytes), each following its path and returning what it found
 * ({@link OperatingPointSearch#runSetting}). A treatment that itself runs Spark jobs (distributed fine-tuning) runs
 * its settings one after another on the driver instead.
 */
final class RepairSearch {
  private RepairSearch() {}

  /**
   * @param taskThreads ND4J threads per task ({@code spark.nd4j-task-threads}; 0 = ND4J's default)
   * @return one outcome per setting, in grid order
   */
  static List<SettingOutcome> inTasks(JobContext ctx, TreatmentMethod method, TreatmentInputs in, Sets sets,
      Accuracies before, Guardrail guardrail, List<Knobs> grid, int taskThreads) {
    Task task = new Task(method.name(), ModelBytes.of(in.model()), in.fisher(), in.train(), in.culprits(),
        in.query(), in.benchmark(), in.options(),
        in.seed(), sets, before, guardrail, grid, taskThreads);
    Broadcast<Task> shared = ctx.jsc().broadcast(task);
    TaskThreads.Setting driverThreads = TaskThreads.current();
    try {
      List<Integer> settings = IntStream.range(0, grid.size()).boxed().toList();
      return ctx.jsc().parallelize(settings, Math.max(1, settings.size())).map(i -> shared.value().run(i))
          .collect();
    } finally {
      TaskThreads.restore(driverThreads);
      shared.destroy();
    }
  }

  /** The settings one after another on the driver, with {@code method} (which may run Spark jobs itself). */
  static List<SettingOutcome> onDriver(TreatmentMethod method, TreatmentInputs in, Sets sets, Accuracies before,
      Guardrail guardrail, List<Knobs> grid) {
    List<SettingOutcome> out = new ArrayList<>();
    for (int i = 0; i < grid.size(); i++) {
      out.add(OperatingPointSearch.runSetting(method, in, sets, before, guardrail, i, grid.get(i)));
    }
    return out;
  }

  /** What a task needs to run one setting: the treatment's inputs, with the network as bytes. */
  private record Task(String method, ModelBytes model, DiagonalFisher fisher, ExampleSet train, ExampleSet culprits,
      ExampleSet query, ExampleSet benchmark, TreatmentOptions options, long seed, Sets sets, Accuracies before,
      Guardrail guardrail, List<Knobs> grid, int threads) implements Serializable {
    private static final long serialVersionUID = 1L;

    SettingOutcome run(int setting) {
      TaskThreads.limit(threads);
      TreatmentInputs in = new TreatmentInputs(model.rebuild(), fisher, train, culprits, query, benchmark, options,
          seed);
      return OperatingPointSearch.runSetting(TreatmentMethods.byName(method), in, sets, before, guardrail, setting,
          grid.get(setting));
    }
  }
}
