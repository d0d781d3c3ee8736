package dev.lethe.influence;

import dev.lethe.LetheInputException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * "ensemble": the rank average of other methods' rankings (Borda count; rank aggregation as in Dwork et al. 2001,
 * "Rank aggregation methods for the web"). With member rankings rank_m(z) over the n training examples,
 *
 * <pre>  r(z) = 1 - (mean_m rank_m(z) - 1/2) / n,</pre>
 *
 * <p>in (0, 1): the example every member ranks first scores 1 - 1/(2n), the one every member ranks last 1/(2n). The
 * ranking is by mean rank, ties broken by the smaller id as for every method. The members' rankings are read from
 * their tables, not recomputed; they must rank the same training examples. The score is a rank statistic with no
 * sign: every example has r(z) > 0, so a repair should select the ensemble's culprits by count or fraction, not by
 * sign.
 */
public final class EnsembleInfluence implements InfluenceMethod {
  public static final String NAME = "ensemble";
  private final List<String> members;

  /**
   * @param members the methods whose rankings are averaged (at least two, distinct, none of them "ensemble")
   */
  public EnsembleInfluence(List<String> members) {
    this.members = List.copyOf(requireMembers(members));
  }

  /** Checks a member list: at least two distinct method names, none of them {@value #NAME}. */
  static List<String> requireMembers(List<String> members) {
    if (members == null || members.size() < 2) {
      throw new IllegalArgumentException("methods must name at least two identify methods, got " + members);
    }
    if (new HashSet<>(members).size() != members.size()) {
      throw new IllegalArgumentException("methods must be distinct, got " + members);
    }
    if (members.contains(NAME)) {
      throw new IllegalArgumentException("methods cannot contain " + NAME + " itself, got " + members);
    }
    return members;
  }

  @Override
  public String name() {
    return NAME;
  }

  public List<String> members() {
    return members;
  }

  @Override
  public PreparedInfluence prepare(InfluenceInputs in) {
    List<Ranking> given = in.rankings() == null ? List.of() : in.rankings();
    List<Ranking> used = new ArrayList<>();
    for (String m : members) {
      Ranking r = given.stream().filter(x -> x.method().equals(m)).findFirst().orElseThrow(() ->
          LetheInputException.of("%s: no ranking of member method %s was given", NAME, m));
      used.add(r);
    }
    Ranking first = used.get(0);
    for (Ranking r : used) {
      if (r.size() != in.trainSize() || !Arrays.equals(r.ids(), first.ids())) {
        throw LetheInputException.of("%s: the ranking of %s covers %d examples, the training set %d (or other ids"
            + " than %s's): rerun identify with %s on this training set", NAME, r.method(), r.size(), in.trainSize(),
            first.method(), r.method());
      }
    }
    int n = first.size();
    double[] score = new double[n];
    for (int i = 0; i < n; i++) {
      double sum = 0;
      for (Ranking r : used) {
        sum += r.ranks()[i];
      }
      score[i] = 1 - (sum / used.size() - 0.5) / n;
    }
    Map<String, Object> diag = new LinkedHashMap<>();
    diag.put("method", NAME);
    diag.put("members", members);
    diag.put("rankCorrelations", spearman(used));
    return new PreparedInfluence(new Spec(first.ids(), score), null, diag);
  }

  /** Spearman's rank correlation of every pair of members, as "a/b" -> rho. */
  private static Map<String, Double> spearman(List<Ranking> used) {
    Map<String, Double> m = new LinkedHashMap<>();
    for (int a = 0; a < used.size(); a++) {
      for (int b = a + 1; b < used.size(); b++) {
        m.put(used.get(a).method() + "/" + used.get(b).method(),
            Ranking.spearman(used.get(a).ranks(), used.get(b).ranks()));
      }
    }
    return m;
  }

  /** Looks each row's score up by id (ids ascending): the same score whatever block or partition holds the row. */
  private record Spec(long[] ids, double[] scores) implements ScorerSpec {
    private static final long serialVersionUID = 1L;

    @Override
    public Scorer open() {
      return block -> ScoredBlock.ofRows(block.size(), i -> {
        int k = Arrays.binarySearch(ids, block.id(i));
        if (k < 0) {
          throw LetheInputException.of("%s: training example %d is in none of the member rankings: rerun identify"
              + " with the members on this training set", NAME, block.id(i));
        }
        return scores[k];
      });
    }
  }
}
