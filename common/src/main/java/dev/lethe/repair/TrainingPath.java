package dev.lethe.repair;

import dev.lethe.model.EpochListener;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * The path of a training-based repair (the fine-tuning repairs): offers the network being trained to a
 * {@link RepairPath} at {@code pointsPerEpoch} evenly spaced points of every epoch, after step
 * {@code round(i * steps / pointsPerEpoch)} of the epoch's {@code steps} minibatch steps for i = 1 ..
 * pointsPerEpoch - 1, and at the end of the epoch. A point's {@code epoch} knob is {@code epoch - 1 + i /
 * pointsPerEpoch} (e.g. 0.25, 0.5, 0.75, 1 for 4 points per epoch); points that fall on the same step (an epoch of
 * fewer steps than points) are offered once, under the first of their labels.
 */
final class TrainingPath implements EpochListener {
  private final Knobs setting;
  private final RepairPath path;
  private final int pointsPerEpoch;

  /**
   * @param setting the setting whose path this is (each point adds its {@code epoch})
   * @param pointsPerEpoch points per epoch (>= 1; 1 = the end of every epoch only)
   */
  TrainingPath(Knobs setting, RepairPath path, int pointsPerEpoch) {
    if (pointsPerEpoch < 1) {
      throw new IllegalArgumentException("points per epoch must be >= 1, got " + pointsPerEpoch);
    }
    this.setting = setting;
    this.path = path;
    this.pointsPerEpoch = pointsPerEpoch;
  }

  @Override
  public boolean afterEpoch(int epoch, MultiLayerNetwork net) {
    return path.offer(setting.with("epoch", epoch), net);
  }

  @Override
  public boolean afterStep(int epoch, int step, int steps, MultiLayerNetwork net) {
    for (int i = 1; i < pointsPerEpoch; i++) {
      long at = Math.round((double) i * steps / pointsPerEpoch);
      if (at == step) {
        return path.offer(setting.with("epoch", epoch - 1 + (double) i / pointsPerEpoch), net);
      }
      if (at > step) {
        break;
      }
    }
    return true;
  }
}
