package dev.lethe.influence;

import dev.lethe.data.ExampleSet;
import dev.lethe.math.LogLikelihood;
import dev.lethe.math.NetworkBytes;
import java.util.LinkedHashMap;
import java.util.Map;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * "loss": r(z) = -log p(z | theta_hat), the training loss of each example. Failure-agnostic (Fq is not read): the
 * examples the trained model fits worst come first, the plain baseline for finding mislabelled data (noisy labels
 * tend to keep a high loss; Arazo et al. 2019). Scored in double precision as the other methods, with the padded
 * fixed-size batches of {@link LogLikelihood#perExample}, so a score does not depend on the partitioning.
 */
public final class LossInfluence implements InfluenceMethod {
  public static final String NAME = "loss";

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public PreparedInfluence prepare(InfluenceInputs in) {
    MultiLayerNetwork model = in.model();
    Map<String, Object> diag = new LinkedHashMap<>();
    diag.put("method", NAME);
    diag.put("failureAgnostic", true);
    return new PreparedInfluence(new Spec(NetworkBytes.configBytes(model), NetworkBytes.paramBytes(model.params()),
        in.options().scoreBatchSize()), null, diag);
  }

  private record Spec(byte[] config, byte[] params, int batchSize) implements ScorerSpec {
    private static final long serialVersionUID = 1L;

    @Override
    public Scorer open() {
      MultiLayerNetwork net = NetworkBytes.rebuild(config, params, DataType.DOUBLE);
      return (ExampleSet block) -> {
        double[] logp = LogLikelihood.perExample(net, block, batchSize);
        double[] score = new double[logp.length];
        for (int i = 0; i < logp.length; i++) {
          score[i] = -logp[i];
        }
        return new ScoredBlock(score, logp, ScoredBlock.nan(score.length));
      };
    }
  }
}
