package dev.lethe.repair;

import dev.lethe.LetheInputException;
import dev.lethe.data.ExampleSet;
import dev.lethe.math.DiagonalFisher;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * What a repair needs.
 *
 * @param model theta_hat, the trained model (never modified)
 * @param fisher the Fisher diagonal at theta_hat over D (needed by ewc-deletion and diagonal newton-removal; may
 *     be null otherwise)
 * @param train D, the training set theta_hat was fitted on (N = its size)
 * @param culprits C, a subset of D (matched by id; may be empty)
 * @param query Fq, the failures to fix (may be empty)
 * @param benchmark B, the benchmark cases whose accuracy a repair must keep (may be empty; PUMA's metric is the
 *     loss on B)
 * @param options method options
 * @param seed the run's seed (methods derive their own streams from it)
 * @param alignment the culprits' alignment computed once for the run by {@link Align#prepare} (its energy model may
 *     be trained from scratch, which no setting of the search must repeat), or null before that and for the other
 *     repairs
 */
public record RepairInputs(MultiLayerNetwork model, DiagonalFisher fisher, ExampleSet train, ExampleSet culprits,
    ExampleSet query, ExampleSet benchmark, RepairOptions options, long seed, LabelAlignment alignment) {

  /** Before any repair's {@link RepairMethod#prepare}. */
  public RepairInputs(MultiLayerNetwork model, DiagonalFisher fisher, ExampleSet train, ExampleSet culprits,
      ExampleSet query, ExampleSet benchmark, RepairOptions options, long seed) {
    this(model, fisher, train, culprits, query, benchmark, options, seed, null);
  }

  /** Without benchmark cases. */
  public RepairInputs(MultiLayerNetwork model, DiagonalFisher fisher, ExampleSet train, ExampleSet culprits,
      ExampleSet query, RepairOptions options, long seed) {
    this(model, fisher, train, culprits, query, query.select(new int[0]), options, seed);
  }

  /**
   * @throws IllegalArgumentException if a required part is missing
   * @throws LetheInputException if D is empty or a culprit id is not in D
   */
  public RepairInputs {
    if (model == null || train == null || culprits == null || query == null || benchmark == null
        || options == null) {
      throw new IllegalArgumentException("model, train, culprits, query, benchmark and options must be given");
    }
    if (train.size() == 0) {
      throw LetheInputException.of("repair: the training set D is empty");
    }
    Set<Long> ids = idSet(train);
    for (long id : culprits.ids()) {
      if (!ids.contains(id)) {
        throw LetheInputException.of("repair: culprit id %d is not in the training set", id);
      }
    }
  }

  /** These inputs with the culprits' alignment ({@link Align#prepare}). */
  public RepairInputs withAlignment(LabelAlignment a) {
    return new RepairInputs(model, fisher, train, culprits, query, benchmark, options, seed, a);
  }

  /** N = |D|. */
  public int trainSize() {
    return train.size();
  }

  /** D \ C, the training rows whose id is not a culprit, in training order. */
  public ExampleSet retained() {
    Set<Long> c = idSet(culprits);
    return train.select(java.util.stream.IntStream.range(0, train.size()).filter(i -> !c.contains(train.id(i)))
        .toArray());
  }

  /**
   * A new network with theta_hat's configuration (its own updater, regularisation) and a copy of its parameters;
   * the optimiser state starts fresh.
   */
  public MultiLayerNetwork copyOfModel() {
    return modelWithParams(model.params());
  }

  /**
   * theta_hat's configuration (its own updater and regularisation, not the optimiser settings of a repair)
   * with a copy of {@code params}: the form every repair returns, so a repair that keeps theta_hat's
   * parameters returns a model with theta_hat's fingerprint.
   */
  public MultiLayerNetwork modelWithParams(org.nd4j.linalg.api.ndarray.INDArray params) {
    MultiLayerConfiguration conf = model.getLayerWiseConfigurations().clone();
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init(params.dup().reshape(model.params().shape()), false);
    return net;
  }

  private static Set<Long> idSet(ExampleSet s) {
    Set<Long> ids = new HashSet<>(s.size() * 2);
    Arrays.stream(s.ids()).forEach(ids::add);
    return ids;
  }
}
