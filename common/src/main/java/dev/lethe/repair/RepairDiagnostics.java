package dev.lethe.repair;

import dev.lethe.data.ExampleSet;
import dev.lethe.math.LogLikelihood;
import java.util.LinkedHashMap;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The diagnostics every repair reports, and the no-op result. */
final class RepairDiagnostics {
  private static final Logger LOG = LoggerFactory.getLogger(RepairDiagnostics.class);
  private static final int BATCH = 128;

  private RepairDiagnostics() {}

  /** Starts a diagnostics map with the method name and the set sizes. */
  static Map<String, Object> start(String method, RepairInputs in) {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("method", method);
    d.put(Repaired.NO_OP, false);
    d.put("trainSize", in.trainSize());
    d.put("culprits", in.culprits().size());
    d.put("querySize", in.query().size());
    return d;
  }

  /**
   * The repaired model {@code after} with its diagnostics completed, timed from {@code t0} (System.nanoTime) and
   * logged: adds the parameter distance and the mean log-likelihoods of C and Fq before and after, in double
   * precision from the networks' parameters ({@link LogLikelihood#meanInDouble}: the value the early-stopping
   * criteria see, and for the CNNs FastCnn's forward pass rather than DL4J's).
   */
  static Repaired finish(Map<String, Object> d, RepairInputs in, MultiLayerNetwork after, long t0) {
    d.put("paramDistance", after.params().reshape(-1).sub(in.model().params().reshape(-1)).norm2Number()
        .doubleValue());
    logp(d, "culpritMeanLogp", in.culprits(), in.model(), after);
    logp(d, "queryMeanLogp", in.query(), in.model(), after);
    long millis = (System.nanoTime() - t0) / 1_000_000;
    LOG.info("{}: {}", d.get("method"), d);
    return new Repaired(after, d, millis);
  }

  private static void logp(Map<String, Object> d, String key, ExampleSet s, MultiLayerNetwork before,
      MultiLayerNetwork after) {
    if (s.size() > 0) {
      d.put(key + "Before", LogLikelihood.meanInDouble(before, s, BATCH));
      d.put(key + "After", LogLikelihood.meanInDouble(after, s, BATCH));
    }
  }

  /**
   * Records the epoch the early-stopped update kept; epoch 0 is theta_hat itself (no epoch improved the
   * criterion): {@code keptThetaHat = true} and a warning, so reports do not present it as a repair.
   */
  static void keptEpoch(Map<String, Object> d, String method, int epochsRun, int bestEpoch) {
    d.put("epochsRun", epochsRun);
    d.put("bestEpoch", bestEpoch);
    d.put("keptThetaHat", bestEpoch == 0);
    if (bestEpoch == 0) {
      LOG.warn("{}: no epoch improved the early-stopping criterion; the result equals theta_hat", method);
    }
  }

  /** theta_hat unchanged (as a copy), with {@code noOp = true} and the reason. */
  static Repaired unchanged(String method, RepairInputs in, String reason, long t0) {
    Map<String, Object> d = start(method, in);
    d.put(Repaired.NO_OP, true);
    d.put("reason", reason);
    LOG.warn("{}: no-op, theta_hat returned unchanged: {}", method, reason);
    return new Repaired(in.copyOfModel(), d, (System.nanoTime() - t0) / 1_000_000);
  }
}
