package dev.lethe.model;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * Sees a training loop's network after every epoch and decides whether the loop goes on. When a loop has a
 * listener, the listener replaces the loop's own early stopping, and the loop ends with the last epoch's parameters.
 */
@FunctionalInterface
public interface EpochListener {
  /**
   * @param epoch the epoch just finished, from 1
   * @param net the network being trained (read it or copy its parameters; do not keep or modify it)
   * @return whether to train another epoch
   */
  boolean afterEpoch(int epoch, MultiLayerNetwork net);
}
