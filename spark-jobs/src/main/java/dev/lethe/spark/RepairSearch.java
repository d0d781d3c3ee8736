package dev.lethe.spark;

import dev.lethe.data.ExampleSet;
import dev.lethe.math.DiagonalFisher;
import dev.lethe.spark.exec.ModelBytes;
import dev.lethe.spark.exec.TaskThreads;
import dev.lethe.repair.Knobs;
import dev.lethe.repair.LabelAlignment;
import dev.lethe.repair.OperatingPointSearch;
import dev.lethe.repair.PathRecorder.SettingOutcome;
import dev.lethe.repair.RepairEvaluation.Accuracies;
import dev.lethe.repair.RepairEvaluation.Guardrail;
import dev.lethe.repair.RepairEvaluation.Sets;
import dev.lethe.repair.RepairInputs;
import dev.lethe.repair.RepairMethod;
import dev.lethe.repair.RepairMethods;
import dev.lethe.repair.RepairOptions;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import org.apache.spark.broadcast.Broadcast;

/**
 * Runs the operating-point search of one repair: every setting of its grid as one Spark task (the inputs travel
 * once, as a broadcast with the network as bytes), each following its path and returning what it found
 * ({@link OperatingPointSearch#runSetting}). A repair that itself runs Spark jobs (distributed fine-tuning) runs
 * its settings one after another on the driver instead.
 */
final class RepairSearch {
  private RepairSearch() {}

  /**
   * @param taskThreads ND4J threads per task ({@code spark.nd4j-task-threads}; 0 = ND4J's default)
   * @return one outcome per setting, in grid order
   */
  static List<SettingOutcome> inTasks(JobContext ctx, RepairMethod method, RepairInputs in, Sets sets,
      Accuracies before, Guardrail guardrail, List<Knobs> grid, int taskThreads) {
    Task task = new Task(method.name(), ModelBytes.of(in.model()), in.fisher(), in.train(), in.culprits(),
        in.query(), in.benchmark(), in.options(), in.seed(), in.alignment(), sets, before, guardrail, grid,
        taskThreads);
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
  static List<SettingOutcome> onDriver(RepairMethod method, RepairInputs in, Sets sets, Accuracies before,
      Guardrail guardrail, List<Knobs> grid) {
    List<SettingOutcome> out = new ArrayList<>();
    for (int i = 0; i < grid.size(); i++) {
      out.add(OperatingPointSearch.runSetting(method, in, sets, before, guardrail, i, grid.get(i)));
    }
    return out;
  }

  /**
   * What a task needs to run one setting: the repair's prepared inputs ({@link RepairMethod#prepare}), with the
   * network as bytes.
   */
  private record Task(String method, ModelBytes model, DiagonalFisher fisher, ExampleSet train, ExampleSet culprits,
      ExampleSet query, ExampleSet benchmark, RepairOptions options, long seed, LabelAlignment alignment, Sets sets,
      Accuracies before, Guardrail guardrail, List<Knobs> grid, int threads) implements Serializable {
    private static final long serialVersionUID = 1L;

    SettingOutcome run(int setting) {
      TaskThreads.limit(threads);
      RepairInputs in = new RepairInputs(model.rebuild(), fisher, train, culprits, query, benchmark, options,
          seed, alignment);
      return OperatingPointSearch.runSetting(RepairMethods.byName(method), in, sets, before, guardrail, setting,
          grid.get(setting));
    }
  }
}
