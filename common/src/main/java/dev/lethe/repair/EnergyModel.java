package dev.lethe.repair;

import dev.lethe.data.ExampleSet;
import dev.lethe.model.TrainResult;
import dev.lethe.model.Trainer;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The model whose energy E(x, y) = -log p(y | x) aligns the culprits ({@code repair.align.energy-model}).
 * theta_hat was fitted to the culprits' labels, so it agrees with most flipped labels it has memorised and
 * disputes the others narrowly. The {@link AlignOptions#RETRAINED} energy comes from a model that has never seen
 * C's labels: theta_hat's architecture, fresh parameters drawn with the train stage's initialisation seed, trained
 * on D \ C with {@code train.*} and the train stage's seed (Adam, early stopping on a seeded validation split), as
 * the leave-C-out retraining of Koh and Liang 2017 (Section 2) and the held-out predicted probabilities that
 * confident learning ranks labels by (Northcutt et al. 2021). It only scores the culprits' labels: the
 * fine-tuning that follows starts from theta_hat.
 *
 * @param kind {@link AlignOptions#BASE} or {@link AlignOptions#RETRAINED}
 * @param net the model (theta_hat itself for {@link AlignOptions#BASE}; never modified afterwards)
 * @param trainedOn rows it was trained on (|D| for theta_hat, whose training is not repeated)
 * @param epochsRun epochs of the retraining (0 for theta_hat)
 * @param millis wall time of the retraining (0 for theta_hat)
 */
public record EnergyModel(String kind, MultiLayerNetwork net, int trainedOn, int epochsRun, long millis) {
  private static final Logger LOG = LoggerFactory.getLogger(EnergyModel.class);

  /** The energy model {@code in.options().align()} names. */
  public static EnergyModel of(RepairInputs in) {
    AlignOptions o = in.options().align();
    if (!o.retrains()) {
      return new EnergyModel(AlignOptions.BASE, in.model(), in.trainSize(), 0, 0);
    }
    ExampleSet retained = in.retained();
    LOG.info("align: training the energy model from scratch on D \\ C ({} of {} rows, {})", retained.size(),
        in.trainSize(), o.retraining().training());
    TrainResult r = Trainer.fit(freshModel(in.model(), o.retraining().initSeed()), retained,
        o.retraining().training());
    LOG.info("align: energy model trained in {} epochs (best {}, validation loss {}) in {} ms", r.epochsRun(),
        r.bestEpoch(), r.bestValidationLoss(), r.millis());
    return new EnergyModel(AlignOptions.RETRAINED, r.model(), retained.size(), r.epochsRun(), r.millis());
  }

  /**
   * theta_hat's architecture (its configuration, updater and regularisation) with fresh parameters drawn with
   * {@code initSeed}, and the training history its configuration carries (iteration and epoch counts, which drive
   * Adam's bias correction) reset, so that the result does not depend on how long theta_hat trained.
   */
  static MultiLayerNetwork freshModel(MultiLayerNetwork model, long initSeed) {
    MultiLayerConfiguration conf = model.getLayerWiseConfigurations().clone();
    conf.setIterationCount(0);
    conf.setEpochCount(0);
    for (NeuralNetConfiguration layer : conf.getConfs()) {
      layer.setSeed(initSeed);
    }
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init();
    return net;
  }
}
