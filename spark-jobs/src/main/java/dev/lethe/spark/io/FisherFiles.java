package dev.lethe.spark.io;

import dev.lethe.math.DiagonalFisher;
import dev.lethe.math.RowLogLikelihoods;
import java.util.Optional;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/** The fisher stage's outputs, read back and checked against the model that later stages use. */
public final class FisherFiles {
  private FisherFiles() {}

  /**
   * Reads fisher/diag.bin and checks that it belongs to {@code net} (same parameter count and fingerprint); a
   * missing, truncated or foreign file is bad input naming the file.
   */
  public static DiagonalFisher read(Workdir wd, MultiLayerNetwork net, String fingerprint) {
    wd.requireInput(WorkdirLayout.FISHER_DIAG, "fisher");
    String where = wd.path(WorkdirLayout.FISHER_DIAG).toString();
    DiagonalFisher f = DiagonalFisher.fromBytes(wd.readBytes(WorkdirLayout.FISHER_DIAG), where);
    f.requireMatches(net.numParams(), fingerprint, where + " (rerun `lethe fisher --overwrite`)");
    return f;
  }

  /**
   * Reads fisher/logp.bin when the fisher stage wrote one (empty otherwise: an older workdir, or a network whose
   * log-likelihoods are not recorded), checked against {@code fingerprint}; a truncated, corrupt or foreign file is
   * bad input naming the file.
   */
  public static Optional<RowLogLikelihoods> readLogLik(Workdir wd, String fingerprint, long rows) {
    if (!wd.exists(WorkdirLayout.FISHER_LOGP)) {
      return Optional.empty();
    }
    RowLogLikelihoods t = RowLogLikelihoods.fromBytes(wd.readBytes(WorkdirLayout.FISHER_LOGP),
        wd.path(WorkdirLayout.FISHER_LOGP).toString());
    t.requireMatches(fingerprint, rows);
    return Optional.of(t);
  }
}
