package dev.lethe.spark.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.lethe.treatment.Knobs;
import dev.lethe.treatment.OperatingPoint;
import dev.lethe.treatment.RepairEvaluation.Accuracies;
import dev.lethe.treatment.RepairReport;
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
