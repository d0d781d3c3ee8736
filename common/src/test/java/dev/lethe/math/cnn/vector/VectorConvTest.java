package dev.lethe.math.cnn.vector;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class VectorConvTest {
  /**
   * A 3x3 convolution of {@code images} zero-bordered {@code hw x hw x cIn} images (channel-last) to {@code cOut}
   * channels, with 2x2 max pooling or not: the tables {@link VectorConv#conv} takes, random inputs and weights.
   */
  private record Case(int hw, int cIn, int cOut, boolean pool, double[] in, int[] off, double[] w, double[] bias,
      int[] pixIn, int[] pixOut) {
    static Case of(int images, int hw, int cIn, int cOut, boolean pool, long seed) {
      SplittableRandom r = new SplittableRandom(seed);
      int pw = hw + 2;
      double[] in = new double[images * pw * pw * cIn];
      for (int im = 0; im < images; im++) {
        for (int y = 1; y <= hw; y++) {
          for (int x = 1; x <= hw; x++) {
            for (int c = 0; c < cIn; c++) {
              in[((im * pw + y) * pw + x) * cIn + c] = r.nextDouble(-1, 1);
            }
          }
        }
      }
      int[] off = new int[9 * cIn];
      for (int ky = 0; ky < 3; ky++) {
        for (int kx = 0; kx < 3; kx++) {
          for (int c = 0; c < cIn; c++) {
            off[(ky * 3 + kx) * cIn + c] = (ky * pw + kx) * cIn + c;
          }
        }
      }
      double[] w = new double[off.length * cOut];
      for (int i = 0; i < w.length; i++) {
        w[i] = r.nextDouble(-0.5, 0.5);
      }
      double[] bias = new double[cOut];
      for (int i = 0; i < cOut; i++) {
        bias[i] = r.nextDouble(-0.2, 0.2);
      }
      int oh = pool ? hw / 2 : hw;
      int[] pixIn = new int[images * (pool ? 4 : 1) * oh * oh];
      int[] pixOut = new int[images * oh * oh];
      int p = 0;
      for (int im = 0; im < images; im++) {
        for (int y = 0; y < oh; y++) {
          for (int x = 0; x < oh; x++) {
            int q = (im * oh + y) * oh + x;
            pixOut[q] = q * cOut;
            if (pool) {
              for (int d = 0; d < 4; d++) {
                pixIn[p++] = ((im * pw + 2 * y + d / 2) * pw + 2 * x + d % 2) * cIn;
              }
            } else {
              pixIn[p++] = ((im * pw + y) * pw + x) * cIn;
            }
          }
        }
      }
      return new Case(hw, cIn, cOut, pool, in, off, w, bias, pixIn, pixOut);
    }

    /** The outputs by scalar fused multiply-adds in tap order, then the pooling maximum, bias and ReLU. */
    double[] reference() {
      int block = VectorConv.channelBlock();
      int taps = off.length;
      double[] out = new double[pixOut.length * cOut];
      int per = pool ? 4 : 1;
      for (int q = 0; q < pixOut.length; q++) {
        for (int co = 0; co < cOut; co++) {
          double best = Double.NEGATIVE_INFINITY;
          for (int d = 0; d < per; d++) {
            double a = 0;
            for (int k = 0; k < taps; k++) {
              a = Math.fma(w[((co / block) * taps + k) * block + co % block], in[pixIn[q * per + d] + off[k]], a);
            }
            best = Math.max(best, a);
          }
          out[pixOut[q] + co] = Math.max(best + bias[co], 0.0);
        }
      }
      return out;
    }

    /** {@link VectorConv#conv}'s outputs with the weights from index {@code w0} of a longer array. */
    double[] direct(int w0) {
      double[] shifted = new double[w0 + w.length];
      System.arraycopy(w, 0, shifted, w0, w.length);
      double[] out = new double[pixOut.length * cOut];
      VectorConv.conv(in, pixIn, pixIn.length, off, shifted, w0, bias, cOut, true, pool, out, pixOut);
      return out;
    }
  }

  @Test
  void packedAndInPlaceKernelsSumLikeScalarFmaInTapOrder() {
    int block = VectorConv.channelBlock();
    // c_in 1 reads the taps in place (runs of 3); c_in 8 and 24 pack them (runs of 8 and 24); one and two blocks
    for (int[] c : new int[][] {{1, 1, 0}, {8, 1, 0}, {24, 2, 0}, {1, 1, 1}, {8, 2, 1}, {24, 1, 1}}) {
      boolean pool = c[2] == 1;
      Case k = Case.of(3, 6, c[0], c[1] * block, pool, 11 + c[0]);
      assertThat(k.off().length >= VectorConv.PACK_RUN * (VectorConv.runs(k.off()).length / 2))
          .as("packed for c_in %d", c[0]).isEqualTo(c[0] >= VectorConv.PACK_RUN);
      double[] want = k.reference();
      assertThat(java.util.Arrays.stream(want).filter(v -> v > 0.1).count()).as("positive outputs").isPositive();
      for (int w0 : new int[] {0, 3, 7}) {
        // exact: the same products summed in the same order by fused multiply-adds
        assertThat(k.direct(w0)).as("c_in %d, %d blocks, pool %b, weights from %d", c[0], c[1], pool, w0)
            .containsExactly(want);
      }
    }
  }

  @Test
  void runsAreMaximalStretchesOfConsecutiveOffsets() {
    assertThat(VectorConv.runs(new int[] {0, 1, 2, 10, 11, 20, 5, 6, 7, 8})).containsExactly(0, 3, 3, 2, 5, 1, 6, 4);
    assertThat(VectorConv.runs(new int[] {4})).containsExactly(0, 1);
  }

  @Test
  void alignedIndexOfAHumongousG1ArrayIsPastItsHeader() {
    assertThat(ArrayAlignment.known()).as("this HotSpot JVM tells where arrays are").isTrue();
    // G1 puts an array of at least half a region (regions are at most 32 MB) at the start of a region of its own,
    // so its elements start 16 bytes (the array header, compressed class pointers) past a multiple of 1 MB
    boolean g1 = ManagementFactory.getGarbageCollectorMXBeans().stream().anyMatch(b -> b.getName().startsWith("G1"));
    assertThat(g1).as("the test JVM runs G1, whose humongous arrays this test relies on").isTrue();
    double[] humongous = new double[8 << 20];
    assertThat(ArrayAlignment.alignedIndex(humongous, 64)).isEqualTo(6);
    assertThat(ArrayAlignment.alignedIndex(humongous, 32)).isEqualTo(2);
    assertThat(ArrayAlignment.alignedIndex(humongous, 4096)).isEqualTo((4096 - 16) / 8);
    assertThat(ArrayAlignment.alignedIndex(humongous, 8)).isZero();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> ArrayAlignment.alignedIndex(humongous, 48))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("48 bytes");
  }

  @Test
  void alignedWeightsKeepTheirValuesAndAlignmentWhenACollectionMovesThem() {
    int bytes = VectorConv.lanes() * Double.BYTES;
    AlignedWeights weights = new AlignedWeights(1000, bytes);
    double[] values = new SplittableRandom(3).doubles(1000).toArray();
    weights.set(values);
    for (int round = 0; round < 4; round++) {
      // a full collection compacts the heap, and usually moves the array off its boundary
      System.gc();
      AlignedWeights.Placed p = weights.get();
      int at = ArrayAlignment.alignedIndex(p.array(), bytes);
      assertThat(at).as("round %d", round).isEqualTo(p.offset());
      assertThat(p.offset()).isBetween(0, bytes / Double.BYTES - 1);
      assertThat(java.util.Arrays.copyOfRange(p.array(), p.offset(), p.offset() + 1000)).containsExactly(values);
    }
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> weights.set(new double[999]))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("999 weights for 1000");
  }
}
