package dev.lethe.spark;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.Test;

/**
 * End to end on the bundled data (3000 training images) with one-directional label flips between similar classes
 * (40% of T-shirts labelled Shirt, Pullovers labelled Coat, Sneakers labelled Ankle boot; 360 flips, the demo's
 * noise): the pipeline (prepare -> train an MLP -> failures -> fisher -> identify with ewc-influence at its default
 * settings) must put far more flipped examples among its top of the ranking than chance. Measured (seed 42, MLP
 * 128, 15 epochs): base rate 12.0% (360/3000), top 1% 86.7% (26/30), top 10% 39.7% (119/300). Thresholds: top 1%
 * >= 4x and top 10% >= 2.5x the base rate.
 */
class LabelFlipDetectionTest {

  @Test
  void ewcInfluenceRanksFlippedLabelsFarAboveChance() {
    Path wd = StageFixture.newDir("flips");
    List<String> sets = List.of("data.test-size=1000", "noise.label-flip.rate=0.4",
        "noise.label-flip.symmetric=false", "model.architecture=mlp", "train.max-epochs=15");
    StageFixture.Run r = StageFixture.ok("pipeline", wd, sets);
    assertThat(r.out()).contains("== fisher").contains("== identify");

    Dataset<Row> culprits = SharedSpark.get().read().parquet(wd.resolve("rankings/ewc-influence.parquet")
        .toString());
    Dataset<Row> train = SharedSpark.get().read().parquet(wd.resolve("data/train.parquet").toString());
    long n = train.count();
    long flipped = train.filter("corruption = 'label_flip'").count();
    double base = (double) flipped / n;
    double top1 = flippedShare(culprits, train, Math.round(0.01 * n));
    double top10 = flippedShare(culprits, train, Math.round(0.10 * n));
    System.err.printf("label flips: base rate %.3f (%d/%d), ewc-influence top 1%% %.3f, top 10%% %.3f%n", base,
        flipped, n, top1, top10);
    assertThat(n).isEqualTo(3000);
    assertThat(top1).as("flipped share of the top 1%% (base rate %.3f)", base).isGreaterThanOrEqualTo(4 * base);
    assertThat(top10).as("flipped share of the top 10%% (base rate %.3f)", base).isGreaterThanOrEqualTo(2.5 * base);
  }

  private static double flippedShare(Dataset<Row> culprits, Dataset<Row> train, long k) {
    return (double) culprits.filter(functions.col("rank").leq(k)).join(train, "id")
        .filter("corruption = 'label_flip'").count() / k;
  }
}
