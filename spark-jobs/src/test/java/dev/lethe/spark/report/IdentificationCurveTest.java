package dev.lethe.spark.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.lethe.treatment.Knobs;
import dev.lethe.treatment.OperatingPoint;
import dev.lethe.treatment.RepairEvaluation.Accuracies;
import dev.lethe.treatment.RepairReport;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class IdentificationCurveTest {
  @Test
  void foundFractionsAndAreaOfASmallRanking() {
    // 4 corrupted among 20 rows, at ranks 1, 2, 5 and 20
    IdentificationCurve c = new IdentificationCurve("m", 20, new long[] {20, 5, 1, 2}, 3.5);
    assertThat(c.corrupted()).isEqualTo(4);
    assertThat(c.foundAt(0.05)).isEqualTo(0.25); // top 1 row
    assertThat(c.foundAt(0.10)).isEqualTo(0.5); // top 2 rows
    assertThat(c.foundAt(0.20)).isEqualTo(0.5); // top 4 rows
    assertThat(c.foundAt(0.25)).isEqualTo(0.75); // top 5 rows
    assertThat(c.foundAt(1.0)).isEqualTo(1.0);
    // (1/4) (20 + 19 + 16 + 1) / 20
    assertThat(c.areaUnderCurve()).isCloseTo(56.0 / 80, within(1e-15));
    List<double[]> p = c.points(100);
    assertThat(p).hasSize(6);
    assertThat(p.get(1)).containsExactly(0.05, 0.25);
    assertThat(p.get(3)).containsExactly(0.25, 0.75);
    assertThat(p.get(5)).containsExactly(1.0, 1.0);
    // thinned: every 2nd corrupted example, always the last
    assertThat(c.points(2)).hasSize(4);
  }

  @Test
  void shareAmongTheTopAndTheTableOfEveryRanking() {
    // 4 corrupted among 20 rows, at ranks 1, 2, 5 and 20
    IdentificationCurve c = new IdentificationCurve("m", 20, new long[] {20, 5, 1, 2}, 3.5);
    assertThat(c.shareInTop(0.05)).isEqualTo(1.0); // 1 of the top 1
    assertThat(c.shareInTop(0.20)).isEqualTo(0.5); // 2 of the top 4
    assertThat(c.shareInTop(0.25)).isEqualTo(0.6); // 3 of the top 5
    assertThat(c.baseRate()).isEqualTo(0.2);
    ReportPage page = new ReportPage("/w", "now", List.of(c, new IdentificationCurve("clean", 20, new long[0], 1)),
        List.of(), null, null, List.of(), List.of(dev.lethe.data.Corruption.LABEL_FLIP,
            dev.lethe.data.Corruption.SALT_PEPPER));
    List<String> t = page.identificationTable();
    assertThat(t).hasSize(3);
    assertThat(t.get(0)).contains("top 1%", "top 5%", "top 10%", "top 20%", "AUC");
    assertThat(t.get(1)).startsWith("m ").contains("100.0%", "50.0%", "0.700", "3.5");
    assertThat(t.get(2)).contains("base rate 20.0% of 20");
    assertThat(page.successDirections()).hasSize(2);
    assertThat(page.successDirections().get(0)).startsWith("label_flip: success = corrupted share at the top above");
    assertThat(page.successDirections().get(1)).startsWith("salt_pepper: success = corrupted share at the top below");
    assertThat(page.html()).contains("salt_pepper: success");
  }

  @Test
  void perfectAndRandomRankingsBracketTheArea() {
    long[] first = new long[100];
    long[] spread = new long[100];
    for (int i = 0; i < 100; i++) {
      first[i] = i + 1;
      spread[i] = 10L * i + 5;
    }
    assertThat(new IdentificationCurve("oracle", 1000, first, Double.NaN).areaUnderCurve())
        .isCloseTo(1 - 0.05 + 0.0005, within(1e-12));
    assertThat(new IdentificationCurve("even", 1000, spread, Double.NaN).areaUnderCurve())
        .isCloseTo(0.5, within(0.01));
  }

  @Test
  void noCorruptionMeansNoCurve() {
    IdentificationCurve c = new IdentificationCurve("m", 10, new long[0], Double.NaN);
    assertThat(c.hasCorruption()).isFalse();
    assertThat(c.foundAt(0.1)).isNaN();
    assertThat(c.areaUnderCurve()).isNaN();
    assertThatThrownBy(() -> new IdentificationCurve("m", 10, new long[] {11}, 0))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("rank 11");
  }

  @Test
  void htmlEscapesTextAndMarksRejectedRepairs() {
    Accuracies before = new Accuracies(0, 1, 0, 1, 0.8, -2);
    Accuracies after = new Accuracies(0.5, 0.97, 0.25, 0.9, Double.NaN, -1);
    OperatingPoint closest = new OperatingPoint(0, 3, Knobs.of("gamma", 0.1).with("epoch", 3), after);
    RepairSummary rejected = new RepairSummary(new RepairReport("m<1>", "rejected", "model-rejected.zip", "f1",
        "f0", "oracle", "culprits/oracle.parquet", new RepairReport.SelectionSummary("top-k", 5, 0.15, 5, 100, 3),
        null, new RepairReport.Sizes(2, 30, 2, 30, 64), before, after, 1.0, closest, List.of(closest), Map.of(), 7,
        false, new RepairReport.Seconds(1, 2, 0.5, 3)));
    ReportPage page = new ReportPage("/w", "now", List.of(), List.of(rejected), null, "t.png", List.of("a & b"));
    String html = page.html();
    assertThat(html).contains("m&lt;1&gt;").contains("a &amp; b").contains("<tr class=\"rejected\">")
        .contains("100.0% &rarr; 90.0%").contains("-10.00").contains("n/a");
    assertThat(rejected.remainingChangePoints()).isCloseTo(-10.0, within(1e-12));
    assertThat(page.repairTable()).hasSize(2);
    assertThat(rejected.benchmarkChangePoints()).isCloseTo(-3.0, within(1e-12));
    assertThat(page.repairTable().get(1)).contains("REJECTED").contains("25.0%").contains("97.0%")
        .contains("gamma = 0.1, epoch = 3");
  }
}
