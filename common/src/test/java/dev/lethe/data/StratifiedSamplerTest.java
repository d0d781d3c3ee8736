package dev.lethe.data;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class StratifiedSamplerTest {

  @Test
  void keepsClassProportionsAndIsDeterministic() {
    int[] labels = new int[1000];
    for (int i = 0; i < labels.length; i++) {
      labels[i] = i < 600 ? 0 : i < 900 ? 1 : 2; // 60% / 30% / 10%
    }
    int[] rows = StratifiedSampler.sample(labels, 100, 7);
    assertThat(rows).hasSize(100).isSorted().doesNotHaveDuplicates();
    int[] counts = new int[3];
    for (int r : rows) {
      counts[labels[r]]++;
    }
    assertThat(counts).containsExactly(60, 30, 10);
    assertThat(StratifiedSampler.sample(labels, 100, 7)).isEqualTo(rows);
    assertThat(StratifiedSampler.sample(labels, 100, 8)).isNotEqualTo(rows);
    assertThat(StratifiedSampler.sample(labels, 0, 7)).hasSize(1000);
  }
}
