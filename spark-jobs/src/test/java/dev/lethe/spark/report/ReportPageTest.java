package dev.lethe.spark.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.lethe.influence.IdentificationCurve;
import dev.lethe.repair.Knobs;
import dev.lethe.repair.OperatingPoint;
import dev.lethe.repair.RepairEvaluation.Accuracies;
import dev.lethe.repair.RepairReport;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReportPageTest {
  @Test
  void htmlEscapesTextAndMarksRejectedRepairs() {
    Accuracies before = new Accuracies(0, 1, 0, 1, 0.8, -2);
    Accuracies after = new Accuracies(0.5, 0.97, 0.25, 0.9, Double.NaN, -1);
    OperatingPoint closest = new OperatingPoint(0, 3, Knobs.of("gamma", 0.1).with("epoch", 3), after);
    RepairSummary rejected = new RepairSummary(new RepairReport("m<1>", "rejected", "model-rejected.zip", "f1",
        "f0", "oracle", "rankings/oracle.parquet", new RepairReport.SelectionSummary("top-k", 5, 0.15, 5, 100, 3),
        null, new RepairReport.Sizes(2, 30, 2, 30, 64), before, after, 1.0, closest, List.of(closest), Map.of(), 7,
        false, new RepairReport.Seconds(1, 2, 0.5, 3)));
    ReportPage page = new ReportPage("/w", "now", List.of(), List.of(rejected), null, "t.png", List.of("a & b"));
    String html = page.html();
    assertThat(html).contains("m&lt;1&gt;").contains("a &amp; b").contains("<tr class=\"rejected\">")
        .contains("100.0% &rarr; 90.0%").contains("-10.00").contains("n/a");
    assertThat(rejected.correctHoldoutChangePoints()).isCloseTo(-10.0, within(1e-12));
    assertThat(page.repairTable()).hasSize(2);
    assertThat(rejected.benchmarkChangePoints()).isCloseTo(-3.0, within(1e-12));
    assertThat(page.repairTable().get(1)).contains("REJECTED").contains("25.0%").contains("97.0%")
        .contains("gamma = 0.1, epoch = 3");
  }

  @Test
  void identificationTableOfEveryRankingWithItsSuccessDirection() {
    // 4 corrupted among 20 rows, at ranks 1, 2, 5 and 20
    IdentificationCurve c = new IdentificationCurve("m", 20, new long[] {20, 5, 1, 2}, 3.5);
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
}
