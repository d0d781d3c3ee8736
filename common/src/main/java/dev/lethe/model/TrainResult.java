package dev.lethe.model;

import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * The outcome of a training run.
 *
 * @param model the network with the best validation loss (the last one without a validation split)
 * @param epochsRun epochs trained
 * @param bestEpoch 1-based epoch of the kept model
 * @param bestValidationLoss mean validation cross-entropy of the kept model (NaN without a validation split)
 * @param trainLoss mean training cross-entropy per epoch
 * @param validationLoss mean validation cross-entropy per epoch
 * @param millis wall time
 */
public record TrainResult(MultiLayerNetwork model, int epochsRun, int bestEpoch, double bestValidationLoss,
    double[] trainLoss, double[] validationLoss, long millis) {}
