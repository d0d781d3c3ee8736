package dev.lethe.influence;

import dev.lethe.LetheInputException;
import dev.lethe.data.ExampleSet;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * "confident-learning" (Northcutt, Jiang, Chuang 2021): finds the label issues, the examples the confident joint
 * counts off its diagonal (labelled i, confidently of another class j: p_oof(j | x) >= t_j), and ranks them first,
 * each group by the label quality of the out-of-fold predicted probabilities ({@link OutOfFold}, from
 * {@link OutOfFoldTraining}), worst first, as cleanlab's find_label_issues does: r(z) = [issue] + b(z), with the
 * badness b = 1 - p_oof(y | x) (self-confidence) or (1 - (p_oof(y | x) - max_{k != y} p_oof(k | x))) / 2 (normalised
 * margin), both in [0, 1]. Failure-agnostic:
 * it looks for mislabelled examples, not for the causes of particular failures. The run record gets the per-class
 * thresholds t_j, the confident joint, the estimated noise matrix P(given = i | true = j) and the number of label
 * issues it implies ({@link LabelQuality}). Scores are computed per id on the driver and looked up by the scorer, so
 * they do not depend on the partitioning.
 */
public final class ConfidentLearning implements InfluenceMethod {
  public static final String NAME = "confident-learning";

  private final LabelQuality.Score score;

  public ConfidentLearning(LabelQuality.Score score) {
    this.score = score;
  }

  /** The label-quality score the ranking uses. */
  public LabelQuality.Score score() {
    return score;
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public PreparedInfluence prepare(InfluenceInputs in) {
    OutOfFold oof = in.outOfFold();
    if (oof == null) {
      throw LetheInputException.of("%s needs out-of-fold probabilities of the training set", NAME);
    }
    double[] t = LabelQuality.thresholds(oof);
    long[][] joint = LabelQuality.confidentJoint(oof, t);
    double[][] noise = LabelQuality.noiseMatrix(oof, joint);
    double[] r = new double[oof.size()];
    for (int i = 0; i < r.length; i++) {
      double q = LabelQuality.quality(oof.probs()[i], oof.labels()[i], score);
      double badness = score == LabelQuality.Score.SELF_CONFIDENCE ? 1 - q : (1 - q) / 2;
      int confident = LabelQuality.confidentClass(oof.probs()[i], t);
      r[i] = badness + (confident >= 0 && confident != oof.labels()[i] ? 1 : 0);
    }
    Map<String, Object> diag = new LinkedHashMap<>();
    diag.put("method", NAME);
    diag.put("failureAgnostic", true);
    diag.put("score", score.key());
    diag.put("folds", oof.folds());
    List<Double> thresholds = new ArrayList<>();
    for (double v : t) {
      thresholds.add(Double.isFinite(v) ? v : null);
    }
    diag.put("thresholds", thresholds);
    diag.put("confidentJoint", LabelQuality.rows(joint));
    diag.put("noiseMatrix", LabelQuality.rows(noise));
    diag.put("estimatedLabelIssues", LabelQuality.offDiagonal(joint));
    return new PreparedInfluence(new Spec(oof.ids(), oof.labels(), r), null, diag);
  }

  private record Spec(long[] ids, int[] labels, double[] scores) implements ScorerSpec {
    private static final long serialVersionUID = 1L;

    @Override
    public Scorer open() {
      return (ExampleSet block) -> {
        double[] s = new double[block.size()];
        for (int i = 0; i < s.length; i++) {
          int r = java.util.Arrays.binarySearch(ids, block.id(i));
          if (r < 0 || labels[r] != block.label(i)) {
            throw LetheInputException.of("%s: training row id %d %s", NAME, block.id(i), r < 0
                ? "is not in the training set its out-of-fold probabilities were computed on"
                : "has another label than when its out-of-fold probabilities were computed");
          }
          s[i] = scores[r];
        }
        return ScoredBlock.scoresOnly(s);
      };
    }
  }
}
