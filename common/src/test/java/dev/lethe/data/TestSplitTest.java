package dev.lethe.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lethe.LetheInputException;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The test split, and Fq restricted to the failures of chosen classes ({@code failures.query-classes}). */
class TestSplitTest {
  private static final int N = 1000;
  private static final int[] LABELS = new int[N];
  private static final int[] PREDICTED = new int[N];

  static {
    SplittableRandom rnd = new SplittableRandom(7);
    for (int i = 0; i < N; i++) {
      LABELS[i] = i % 10;
      // about 30% failures, in every class but 9
      PREDICTED[i] = LABELS[i] != 9 && rnd.nextDouble() < 0.3 ? (LABELS[i] + 1) % 10 : LABELS[i];
    }
  }

  private static int[] all(TestSplit s) {
    return IntStream.concat(IntStream.concat(Arrays.stream(s.query()), Arrays.stream(s.holdout())),
        IntStream.concat(Arrays.stream(s.benchmark()), Arrays.stream(s.correctHoldout()))).sorted().toArray();
  }

  @Test
  void queryClassesDrawFqFromThoseClassesAndTheOtherFailuresGoToFh() {
    TestSplit s = TestSplit.of(PREDICTED, LABELS, 0.5, 0.5, 42, List.of(0, 2, 7));
    long listedFailures = IntStream.range(0, N)
        .filter(i -> PREDICTED[i] != LABELS[i] && (LABELS[i] == 0 || LABELS[i] == 2 || LABELS[i] == 7)).count();
    long failures = IntStream.range(0, N).filter(i -> PREDICTED[i] != LABELS[i]).count();
    assertThat(s.query()).isNotEmpty();
    assertThat(Arrays.stream(s.query()).boxed()).allMatch(i -> LABELS[i] == 0 || LABELS[i] == 2 || LABELS[i] == 7)
        .allMatch(i -> PREDICTED[i] != LABELS[i]);
    assertThat((long) s.query().length).isEqualTo(Math.round(0.5 * listedFailures));
    assertThat((long) s.holdout().length).isEqualTo(failures - s.query().length);
    assertThat(Arrays.stream(s.holdout()).boxed()).allMatch(i -> PREDICTED[i] != LABELS[i]);
    // still a partition of the test set, each part ascending
    assertThat(all(s)).containsExactly(IntStream.range(0, N).toArray());
    assertThat(s.holdout()).isSorted();
    // the correctly classified split does not depend on the query classes
    TestSplit plain = TestSplit.of(PREDICTED, LABELS, 0.5, 0.5, 42);
    assertThat(s.benchmark()).containsExactly(plain.benchmark());
    assertThat(TestSplit.of(PREDICTED, LABELS, 0.5, 0.5, 42, List.of()).query()).containsExactly(plain.query());
  }

  @Test
  void aListedClassWithoutFailuresIsBadInputNamingIt() {
    assertThatThrownBy(() -> TestSplit.of(PREDICTED, LABELS, 0.5, 0.5, 42, List.of(0, 9)))
        .isInstanceOf(LetheInputException.class).hasMessageContaining("failures.query-classes")
        .hasMessageContaining("class 9 has no failures");
  }
}
