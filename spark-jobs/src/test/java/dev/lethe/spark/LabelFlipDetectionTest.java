package dev.lethe.spark;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.junit.jupiter.api.Test;

/**
 * End to end on the bundled data (3000 training images) with 20% label flips between similar classes: the
 * pipeline (prepare -> train an MLP -> failures -> fisher -> identify with ewc-influence) must put far more
 * flipped examples among its top 10% than chance. Measured here (seed 42, MLP 128, 5 epochs): see the assertion
 * message in the test log; the threshold is twice the base rate of flipped examples.
 */
class LabelFlipDetectionTest {

  @Test
  void ewcInfluenceRanksFlippedLabelsFarAboveChance() {
    Path wd = StageFixture.newDir("flips");
    List<String> sets = List.of("data.test-size=1000", "noise.label-flip.rate=0.2", "model.architecture=mlp",
        "train.max-epochs=5");
    StageFixture.Run r = StageFixture.ok("pipeline", wd, sets);
    assertThat(r.out()).contains("== fisher").contains("== identify");

    Dataset<Row> culprits = SharedSpark.get().read().parquet(wd.resolve("culprits/ewc-influence.parquet")
        .toString());
    Dataset<Row> train = SharedSpark.get().read().parquet(wd.resolve("data/train.parquet").toString());
    long n = train.count();
    long flipped = train.filter("corruption = 'label_flip'").count();
    long k = Math.round(0.10 * n);
    long flippedInTop = culprits.filter(functions.col("rank").leq(k)).join(train, "id")
        .filter("corruption = 'label_flip'").count();
    double base = (double) flipped / n;
    double top = (double) flippedInTop / k;
    System.err.printf("label flips: base rate %.3f (%d/%d), ewc-influence top 10%% %.3f (%d/%d)%n", base, flipped,
        n, top, flippedInTop, k);
    assertThat(n).isEqualTo(3000);
    assertThat(top).as("flipped share of the top 10%% (base rate %.3f)", base).isGreaterThanOrEqualTo(2 * base);
  }
}
