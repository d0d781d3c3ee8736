package dev.lethe.model;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * Sees a training loop's network after every epoch, and if it wants after every minibatch step, and decides whether
 * the loop goes on. When a loop has a listener, the listener replaces the loop's own early stopping, and the loop ends
 * with the parameters it had when the listener stopped it (or after its last epoch).
 */
@FunctionalInterface
public interface EpochListener {
  /**
   * @param epoch the epoch just finished, from 1
   * @param net the network being trained (read it or copy its parameters; do not keep or modify it)
   * @return whether to train another epoch
   */
  boolean afterEpoch(int epoch, MultiLayerNetwork net);

  /**
   * Called after every minibatch step of an epoch but its last (after the last, {@link #afterEpoch} is called
   * instead), by the loops that take steps on the driver ({@link Trainer}, {@link dev.lethe.influence.EwcUpdate});
   * the distributed loop calls only {@link #afterEpoch}. Does nothing by default.
   *
   * @param epoch the epoch in progress, from 1
   * @param step the steps taken in this epoch so far, from 1 to {@code steps - 1}
   * @param steps the minibatch steps of this epoch
   * @param net the network being trained (read it or copy its parameters; do not keep or modify it)
   * @return whether to go on; false ends the loop here, with these parameters
   */
  default boolean afterStep(int epoch, int step, int steps, MultiLayerNetwork net) {
    return true;
  }
}
