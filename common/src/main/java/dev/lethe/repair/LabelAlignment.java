package dev.lethe.repair;

import dev.lethe.data.Corruption;
import dev.lethe.data.ExampleSet;
import dev.lethe.math.Batches;
import dev.lethe.math.LogLikelihood;
import dev.lethe.math.NetworkBytes;
import dev.lethe.repair.RepairReport.LabelChange;
import dev.lethe.repair.RepairReport.LabelChanges;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Energy-based alignment of the culprits C with the model (the CS772 report's proposal, after the energy view of a
 * classifier, Grathwohl et al. 2020): with E(x, y) = -logit_y(x) + logsumexp_c logit_c(x) = -log p(y | x) at the
 * energy model ({@link EnergyModel}: theta_hat, or a model trained from scratch on D \ C), a culprit's label
 * becomes y* = argmin_y E(x, y) (the smallest class on ties) when its energy gap E(x, y) - E(x, y*) =
 * log p(y* | x) - log p(y | x) is at least {@code repair.align.min-energy-gap} nats (the margin by which the model
 * must prefer y*; a culprit it disputes by less is held and keeps its label). The culprits that are not relabelled
 * stay in D as they are or leave it ({@code repair.align.unaligned}). Optionally, every culprit's input takes
 * {@code inputSteps} signed-gradient steps x <- clip(x - step sign(grad_x E(x, y))) of the same energy on its final
 * label that stay within the L-infinity ball of radius epsilon around the original input and within the feature
 * range.
 *
 * @param original C as selected
 * @param aligned C with the aligned labels (and inputs), same ids and order
 * @param dropped per culprit (C's order): whether it leaves D
 * @param held the culprits whose label the model disputes (y* differs from it) by less than the margin
 * @param energyGaps per culprit (C's order): E(x, y) - E(x, y*) under the energy model, in nats (0 when it agrees
 *     with the label)
 * @param energyModel which model gave the energy ({@link AlignOptions#BASE} or {@link AlignOptions#RETRAINED})
 * @param energyModelEpochs epochs of its retraining (0 for theta_hat)
 * @param energyModelMillis wall time of its retraining (0 for theta_hat)
 */
public record LabelAlignment(ExampleSet original, ExampleSet aligned, boolean[] dropped, int held,
    double[] energyGaps, String energyModel, int energyModelEpochs, long energyModelMillis) implements Serializable {
  private static final long serialVersionUID = 1L;

  /**
   * The alignment of {@code in.culprits()} at the energy model of {@code repair.align.energy-model} (trained here
   * when it is {@link AlignOptions#RETRAINED}: compute it once per repair, {@link Align#prepare}).
   */
  public static LabelAlignment of(RepairInputs in) {
    ExampleSet c = in.culprits();
    AlignOptions o = in.options().align();
    if (c.size() == 0) {
      return new LabelAlignment(c, c, new boolean[0], 0, new double[0], o.energyModel(), 0, 0);
    }
    EnergyModel energy = EnergyModel.of(in);
    double[][] z = LogLikelihood.logitsInDouble(energy.net(), c, 128);
    int[] labels = new int[c.size()];
    boolean[] dropped = new boolean[c.size()];
    double[] gaps = new double[c.size()];
    int held = 0;
    for (int i = 0; i < labels.length; i++) {
      int best = lowestEnergy(z[i]);
      int given = c.label(i);
      gaps[i] = best == given ? 0 : energyGap(z[i], given, best);
      boolean relabel = best != given && gaps[i] >= o.minEnergyGap();
      held += best != given && !relabel ? 1 : 0;
      labels[i] = relabel ? best : given;
      dropped[i] = !relabel && o.dropsUnaligned();
    }
    ExampleSet relabelled = c.withLabels(labels, c.corruptions());
    if (o.inputSteps() > 0 && o.inputEpsilon() > 0) {
      relabelled = relabelled.withFeatures(stepInputs(energy.net(), relabelled, o), c.corruptions());
    }
    return new LabelAlignment(c, relabelled, dropped, held, gaps, energy.kind(), energy.epochsRun(),
        energy.millis());
  }

  /** E(x, y) - E(x, y*) = log p(y* | x) - log p(y | x), in nats, from the logits. */
  public static double energyGap(double[] logits, int y, int yStar) {
    return energy(logits, y) - energy(logits, yStar);
  }

  /** argmin_y E(x, y) = argmax_y logit_y (ties: the smallest class). */
  static int lowestEnergy(double[] logits) {
    int best = 0;
    for (int y = 1; y < logits.length; y++) {
      if (logits[y] > logits[best]) {
        best = y;
      }
    }
    return best;
  }

  /** E(x, y) = -logit_y + logsumexp(logits). */
  public static double energy(double[] logits, int y) {
    return -LogLikelihood.logSoftmax(logits, y);
  }

  /** The inputs after the signed-gradient steps on E(x, y) with y the rows' labels. */
  private static float[][] stepInputs(MultiLayerNetwork model, ExampleSet s, AlignOptions o) {
    MultiLayerNetwork net = NetworkBytes.rebuild(NetworkBytes.configBytes(model),
        NetworkBytes.paramBytes(model.params()), DataType.DOUBLE);
    int k = numClasses(model);
    float[][] out = new float[s.size()][];
    for (int i = 0; i < s.size(); i++) {
      float[] x0 = s.features(i);
      double[] x = new double[x0.length];
      for (int j = 0; j < x.length; j++) {
        x[j] = x0[j];
      }
      INDArray label = Batches.oneHot(s.labels(), i, i + 1, k, 1, DataType.DOUBLE);
      for (int step = 0; step < o.inputSteps(); step++) {
        INDArray input = org.nd4j.linalg.factory.Nd4j.createFromArray(x).reshape(1, x.length);
        // grad_x of the cross-entropy with label y, which is grad_x E(x, y)
        double[] g = net.calculateGradients(input, label, null, null).getSecond().reshape(-1).toDoubleVector();
        for (int j = 0; j < x.length; j++) {
          double moved = x[j] - o.inputStepSize() * Math.signum(g[j]);
          double lo = Math.max(o.featureMin(), x0[j] - o.inputEpsilon());
          double hi = Math.min(o.featureMax(), x0[j] + o.inputEpsilon());
          x[j] = Math.min(hi, Math.max(lo, moved));
        }
      }
      out[i] = new float[x.length];
      for (int j = 0; j < x.length; j++) {
        out[i][j] = (float) x[j];
      }
    }
    return out;
  }

  private static int numClasses(MultiLayerNetwork net) {
    return (int) ((org.deeplearning4j.nn.conf.layers.FeedForwardLayer) net.getLayerWiseConfigurations()
        .getConf(net.getnLayers() - 1).getLayer()).getNOut();
  }

  /**
   * D with the aligned culprits in place of the originals and without the dropped ones (training order kept).
   */
  public ExampleSet alignedTrain(ExampleSet train) {
    Map<Long, Integer> at = new HashMap<>();
    for (int i = 0; i < aligned.size(); i++) {
      at.put(aligned.id(i), i);
    }
    int[] labels = train.labels().clone();
    float[][] features = train.features().clone();
    List<Integer> keep = new ArrayList<>(train.size());
    for (int i = 0; i < train.size(); i++) {
      Integer a = at.get(train.id(i));
      if (a != null) {
        labels[i] = aligned.label(a);
        features[i] = aligned.features(a);
      }
      if (a == null || !dropped[a]) {
        keep.add(i);
      }
    }
    ExampleSet all = new ExampleSet(train.ids(), features, labels, train.originalLabels(), train.corruptions(),
        train.numFeatures());
    return keep.size() == train.size() ? all : all.select(keep.stream().mapToInt(Integer::intValue).toArray());
  }

  /**
   * The label changes for the report: every culprit whose label changed, and how many of those now carry their
   * original (pre-corruption) label.
   *
   * @param corruptionFlags whether the data carries corruption flags (then the count is the precision of the label
   *     corrections)
   */
  public LabelChanges changes(boolean corruptionFlags) {
    List<LabelChange> changes = new ArrayList<>();
    int restored = 0;
    int inputsMoved = 0;
    int droppedCount = 0;
    for (int i = 0; i < original.size(); i++) {
      droppedCount += dropped[i] ? 1 : 0;
      if (original.features(i) != aligned.features(i)) {
        inputsMoved++;
      }
      if (original.label(i) != aligned.label(i)) {
        changes.add(new LabelChange(original.id(i), original.label(i), aligned.label(i), original.originalLabel(i),
            original.corruption(i) != Corruption.NONE, energyGaps[i]));
        if (aligned.label(i) == original.originalLabel(i)) {
          restored++;
        }
      }
    }
    return new LabelChanges(original.size(), changes.size(), restored, inputsMoved, held, droppedCount,
        corruptionFlags, changes, energyModel, energyModelEpochs, energyModelMillis / 1000.0);
  }
}
