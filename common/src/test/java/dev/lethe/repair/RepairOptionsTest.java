package dev.lethe.repair;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lethe.LetheInputException;
import dev.lethe.config.LetheConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

class RepairOptionsTest {
  @Test
  void referenceConfSelectsThePaperCulpritsAndKeepsGridsSorted() {
    LetheConfig c = LetheConfig.defaults();
    assertThat(Selection.from(c)).isEqualTo(Selection.paper());
    assertThat(RepairEvaluation.Guardrail.from(c)).isEqualTo(new RepairEvaluation.Guardrail(1.0));
    // a grid is kept sorted and without repeats
    LetheConfig g = LetheConfig.load(null, null, List.of("repair.search.puma.eta=[1, 0.1, 1]"));
    assertThat(RepairOptions.from(g).search().pumaEta()).containsExactly(0.1, 1.0);
    assertThat(RepairMethods.byName(c.getString("repair.method")).name()).isEqualTo(EwcDeletion.NAME);
  }

  @Test
  void badValuesNameTheirKey() {
    for (String[] kv : new String[][] {
        {"repair.ewc-deletion.gamma=-1", "repair.ewc-deletion.gamma"},
        {"repair.ewc-deletion.patience=0", "repair.ewc-deletion.patience"},
        {"repair.newton-removal.solver=gmres", "repair.newton-removal.solver"},
        {"repair.newton-removal.curvature=kfac", "repair.newton-removal.curvature"},
        {"repair.newton-removal.cg.tolerance=0", "repair.newton-removal.cg.tolerance"},
        {"repair.newton-removal.lissa.depth=0", "repair.newton-removal.lissa.depth"},
        {"repair.finetune.l2=-0.1", "repair.finetune.l2"},
        {"repair.finetune.validation-fraction=0.9", "repair.finetune.validation-fraction"},
        {"repair.puma.ridge=0", "repair.puma.ridge"},
        {"repair.puma.upweight=all", "repair.puma.upweight"},
        {"repair.search.patience=0", "repair.search.patience"},
        {"repair.search.ewc-deletion.gamma=[]", "repair.search.ewc-deletion.gamma"},
        {"repair.search.ewc-deletion.learning-rate=[0]", "repair.search.ewc-deletion.learning-rate"},
        {"repair.search.newton-removal.gamma=[0.1, -1]", "repair.search.newton-removal.gamma"},
        {"repair.search.finetune.l2=[-1]", "repair.search.finetune.l2"},
        {"repair.search.puma.eta=[0]", "repair.search.puma.eta"},
        {"repair.search.finetune.points-per-epoch=0", "repair.search.finetune.points-per-epoch"},
        {"repair.search.step-refinements=-1", "repair.search.step-refinements"},
        {"repair.align.energy-model=oracle", "repair.align.energy-model"},
        {"repair.align.unaligned=delete", "repair.align.unaligned"}}) {
      LetheConfig c = LetheConfig.load(null, null, List.of(kv[0]));
      assertThatThrownBy(() -> RepairOptions.from(c)).as(kv[0]).isInstanceOf(LetheInputException.class)
          .hasMessageContaining(kv[1]);
    }
    LetheConfig sel = LetheConfig.load(null, null, List.of("repair.selection=best"));
    assertThatThrownBy(() -> Selection.from(sel)).isInstanceOf(LetheInputException.class)
        .hasMessageContaining("repair.selection");
  }

  @Test
  void gammaZeroMeansTheExactRemovalStep() {
    RepairOptions.Ewc e = new RepairOptions.Ewc(0, 0, 1e-3, 64, 1, 1);
    assertThat(e.effectiveGamma(30, 200)).isEqualTo(0.3);
    assertThat(e.update(30, 200).gamma()).isEqualTo(0.3);
    assertThat(RepairOptions.defaults().ewc().effectiveGamma(30, 200)).isEqualTo(0.03);
    assertThat(RepairOptions.defaults().newton().withSolver("LiSSA").solver()).isEqualTo("lissa");
  }

  @Test
  void methodsByName() {
    for (String n : RepairMethods.names()) {
      assertThat(RepairMethods.byName(n).name()).isEqualTo(n);
    }
    assertThat(RepairMethods.names()).containsExactly("ewc-deletion", "newton-removal", "finetune",
        "finetune-fq", "finetune-combined", "puma", "align");
    assertThatThrownBy(() -> RepairMethods.byName("retrain")).isInstanceOf(LetheInputException.class)
        .hasMessageContaining("lethe.repair.method").hasMessageContaining("retrain")
        .hasMessageContaining("ewc-deletion, newton-removal, finetune, finetune-fq, finetune-combined, puma, align");
  }
}
