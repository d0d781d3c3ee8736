package dev.lethe.influence;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class CurvatureSampleTest {
  @Test
  void theChoiceDependsOnTheIdsAndTheSeedOnly() {
    long[] ids = LongStream.range(0, 1000).map(i -> 7 * i + 3).toArray();
    long[] reversed = LongStream.range(0, 1000).map(i -> ids[999 - (int) i]).toArray();
    long[] a = CurvatureSample.choose(ids, 50, 42);
    assertThat(a).hasSize(50).doesNotHaveDuplicates();
    assertThat(CurvatureSample.choose(reversed, 50, 42)).containsExactly(a);
    assertThat(ids).contains(a);
    // another seed draws another sample: two random 50-of-1000 samples share about 2.5 ids
    long[] b = CurvatureSample.choose(ids, 50, 43);
    assertThat(Arrays.stream(b).filter(x -> Arrays.stream(a).anyMatch(y -> y == x)).count()).isLessThan(15);
    // a larger sample extends the smaller one
    assertThat(Arrays.copyOf(CurvatureSample.choose(ids, 100, 42), 50)).containsExactly(a);
  }

  @Test
  void fewerIdsThanTheSampleSizeGiveAllOfThem() {
    assertThat(CurvatureSample.choose(new long[] {5, 1, 9}, 10, 1)).containsExactlyInAnyOrder(5, 1, 9);
  }
}
