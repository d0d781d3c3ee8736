package dev.lethe.spark;

import dev.lethe.config.LetheConfig;
import java.util.List;
import org.apache.hadoop.conf.Configuration;

/** The {@code bench} command as a stage: its suite is checked when the config loads, and it writes its own folder. */
final class BenchStage implements StageJob {
  @Override
  public void validate(LetheConfig c, Configuration hadoop) {}

  @Override
  public List<Input> inputs(LetheConfig c) {
    return List.of();
  }

  @Override
  public List<String> outputs(LetheConfig c) {
    return List.of();
  }

  @Override
  public void run(JobContext ctx) throws Exception {
    BenchCommand.load().run(ctx);
  }
}
