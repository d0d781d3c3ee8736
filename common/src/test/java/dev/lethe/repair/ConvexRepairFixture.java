package dev.lethe.repair;

import static dev.lethe.math.SoftmaxRegressionReference.network;
import static dev.lethe.math.SoftmaxRegressionReference.predict;
import static dev.lethe.math.SoftmaxRegressionReference.sample;

import dev.lethe.data.Corruption;
import dev.lethe.data.ExampleSet;
import dev.lethe.math.DiagonalFisher;
import dev.lethe.math.EmpiricalFisher;
import dev.lethe.math.SoftmaxRegressionReference;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * Convex ground truth for the repairs: L2-regularised multinomial logistic regression (double precision) on
 * 200 synthetic 2-D points in 3 Gaussian classes, with {@value #FLIPS} labels of class 0 flipped to class 1 (C =
 * the flipped points). theta_hat maximises sum_D log p - (mu/2) ||theta||^2 and theta_-C the same over D \ C, both
 * by damped Newton to a gradient norm below 1e-10 (the optimum is unique). Fq = clean test points that theta_hat
 * misclassifies. Reference parameters: W[j][c] at j*K+c, bias c at D*K+c (mapped to DL4J by name, not by layout).
 */
final class ConvexRepairFixture {
  static final int P = SoftmaxRegressionReference.P;
  static final int N = 200;
  static final int FLIPS = 20;
  static final double MU = SoftmaxRegressionReference.MU;

  final ExampleSet train;
  final ExampleSet culprits;
  final ExampleSet test;
  final ExampleSet query;
  final double[] thetaHat;
  final double[] thetaMinusC;
  final MultiLayerNetwork model;
  final DiagonalFisher fisher;

  ConvexRepairFixture() {
    Random rng = new Random(2022);
    ExampleSet clean = sample(rng, N, 0);
    int[] labels = clean.labels().clone();
    Corruption[] corr = new Corruption[N];
    Arrays.fill(corr, Corruption.NONE);
    List<Integer> flipped = new ArrayList<>();
    for (int i = 0; i < N && flipped.size() < FLIPS; i++) {
      if (labels[i] == 0) {
        labels[i] = 1;
        corr[i] = Corruption.LABEL_FLIP;
        flipped.add(i);
      }
    }
    train = clean.withLabels(labels, corr);
    culprits = train.select(flipped.stream().mapToInt(Integer::intValue).toArray());
    int[] keep = java.util.stream.IntStream.range(0, N).filter(i -> !flipped.contains(i)).toArray();
    thetaHat = fit(train, new double[P]);
    thetaMinusC = fit(train.select(keep), thetaHat.clone());
    test = sample(rng, 600, 10_000);
    List<Integer> wrong = new ArrayList<>();
    for (int i = 0; i < test.size(); i++) {
      if (predict(thetaHat, test.features(i)) != test.label(i)) {
        wrong.add(i);
      }
    }
    query = test.select(wrong.stream().mapToInt(Integer::intValue).toArray());
    model = network(thetaHat);
    fisher = EmpiricalFisher.compute(model, train);
  }

  /** argmax sum_s log p - (mu/2) ||theta||^2 by damped Newton from {@code t}. */
  static double[] fit(ExampleSet s, double[] t) {
    return SoftmaxRegressionReference.fit(s, null, t);
  }

  static double distance(double[] a, double[] b) {
    double s = 0;
    for (int q = 0; q < a.length; q++) {
      s += (a[q] - b[q]) * (a[q] - b[q]);
    }
    return Math.sqrt(s);
  }

  /** Accuracy of reference parameters against the ORIGINAL (clean) labels of {@code s}. */
  static double cleanAccuracy(double[] t, ExampleSet s) {
    int right = 0;
    for (int i = 0; i < s.size(); i++) {
      right += predict(t, s.features(i)) == s.originalLabel(i) ? 1 : 0;
    }
    return right / (double) s.size();
  }
}
