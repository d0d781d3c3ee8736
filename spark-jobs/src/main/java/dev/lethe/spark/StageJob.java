package dev.lethe.spark;

import dev.lethe.config.LetheConfig;
import dev.lethe.spark.io.ModelFiles;
import dev.lethe.spark.io.WorkdirLayout;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;

/**
 * One stage of the pipeline: the settings it checks, the workdir paths it reads and publishes, and its work.
 * {@link Stage#run} checks the first three before it calls {@link #run}, so a stage body starts from valid settings,
 * present inputs and outputs it may write.
 */
public interface StageJob {
  /** A workdir path the stage reads, and the command that publishes it (named when the path is missing). */
  record Input(String path, String producer) {}

  /**
   * Checks the stage's settings (and that the external files they name exist) before anything is read or computed; a
   * bad value is bad input naming its key.
   */
  void validate(LetheConfig c, Configuration hadoop);

  /** The workdir paths the stage needs under {@code c}, each published by an earlier stage. */
  List<Input> inputs(LetheConfig c);

  /**
   * {@code inputs} and the base model when train publishes it: model/base.zip, unless {@code model.source = file}
   * (then the stage reads the user's model at {@code model.path}).
   */
  static List<Input> withBaseModel(LetheConfig c, Input... inputs) {
    List<Input> all = new ArrayList<>(List.of(inputs));
    if (!ModelFiles.fromFile(c)) {
      all.add(new Input(WorkdirLayout.BASE_MODEL, "train"));
    }
    return all;
  }

  /** The workdir paths the stage publishes under {@code c}; one that exists needs {@code --overwrite}. */
  List<String> outputs(LetheConfig c);

  /** Does the stage's work and publishes its outputs. */
  void run(JobContext ctx) throws Exception;
}
