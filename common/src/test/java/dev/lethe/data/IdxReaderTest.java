package dev.lethe.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.lethe.LetheInputException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxReaderTest {

  /** Two 2 x 3 images with pixel values 0..11 and labels 7, 3. */
  static byte[] images() {
    ByteBuffer b = ByteBuffer.allocate(16 + 12);
    b.putInt(2051).putInt(2).putInt(2).putInt(3);
    for (int i = 0; i < 12; i++) {
      b.put((byte) (i * 20));
    }
    return b.array();
  }

  static byte[] labels() {
    return ByteBuffer.allocate(10).putInt(2049).putInt(2).put((byte) 7).put((byte) 3).array();
  }

  static byte[] gzip(byte[] plain) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(plain);
    }
    return out.toByteArray();
  }

  private static ExampleSet read(byte[] img, byte[] lab) {
    return IdxReader.readPair(new ByteArrayInputStream(img), "img.idx", new ByteArrayInputStream(lab), "lab.idx",
        100);
  }

  @Test
  void readsHandmadePlainAndGzippedFilesAlike() throws IOException {
    for (boolean gz : new boolean[] {false, true}) {
      ExampleSet s = gz ? read(gzip(images()), gzip(labels())) : read(images(), labels());
      assertThat(s.size()).isEqualTo(2);
      assertThat(s.numFeatures()).isEqualTo(6);
      assertThat(s.ids()).containsExactly(100, 101);
      assertThat(s.labels()).containsExactly(7, 3);
      assertThat(s.features(0)[0]).isEqualTo(0f);
      assertThat(s.features(0)[5]).isCloseTo(100 / 255f, within(1e-7f));
      assertThat(s.features(1)[5]).isCloseTo(220 / 255f, within(1e-7f));
      assertThat(s.corruption(0)).isEqualTo(Corruption.NONE);
    }
  }

  @Test
  void readsLocalFilesAndNamesAMissingOne(@TempDir Path dir) throws IOException {
    Path img = Files.write(dir.resolve("i.idx.gz"), gzip(images()));
    Path lab = Files.write(dir.resolve("l.idx"), labels());
    assertThat(IdxReader.readPair(img, lab, 0).size()).isEqualTo(2);
    Path missing = dir.resolve("nope.idx");
    assertThatThrownBy(() -> IdxReader.readPair(missing, lab, 0)).isInstanceOf(LetheInputException.class)
        .hasMessageContaining("nope.idx").hasMessageContaining("not found");
  }

  @Test
  void wrongMagicNamesTheFileAndTheNumbers() {
    // a label file given where images are expected
    assertThatThrownBy(() -> read(labels(), labels())).isInstanceOf(LetheInputException.class)
        .hasMessageStartingWith("img.idx: wrong magic number").hasMessageContaining("label file");
    byte[] junk = "hello world, not idx".getBytes();
    assertThatThrownBy(() -> read(images(), junk)).isInstanceOf(LetheInputException.class)
        .hasMessageStartingWith("lab.idx: wrong magic number");
  }

  @Test
  void truncatedEmptyAndTrailingBytesAreReported() throws IOException {
    byte[] cut = Arrays.copyOf(images(), images().length - 4);
    assertThatThrownBy(() -> read(cut, labels())).isInstanceOf(LetheInputException.class)
        .hasMessageStartingWith("img.idx: truncated file");
    byte[] header = Arrays.copyOf(images(), 9);
    assertThatThrownBy(() -> read(header, labels())).hasMessageStartingWith("img.idx: truncated file");
    assertThatThrownBy(() -> read(new byte[0], labels())).hasMessageStartingWith("img.idx: empty file");
    byte[] longer = Arrays.copyOf(labels(), labels().length + 1);
    assertThatThrownBy(() -> read(images(), longer)).hasMessageStartingWith("lab.idx: unexpected bytes");
    byte[] gz = gzip(images());
    byte[] cutGz = Arrays.copyOf(gz, gz.length - 12);
    assertThatThrownBy(() -> read(cutGz, labels())).isInstanceOf(LetheInputException.class)
        .hasMessageStartingWith("img.idx:");
  }

  @Test
  void countMismatchNamesBothFiles() {
    byte[] three = ByteBuffer.allocate(11).putInt(2049).putInt(3).put((byte) 1).put((byte) 2).put((byte) 3)
        .array();
    assertThatThrownBy(() -> read(images(), three)).isInstanceOf(LetheInputException.class)
        .hasMessageContaining("img.idx has 2 images").hasMessageContaining("lab.idx has 3 labels");
  }

  @Test
  void bundledSubsetHasTheDocumentedShape() {
    ExampleSet train = BundledData.train();
    ExampleSet test = BundledData.test();
    assertThat(train.size()).isEqualTo(3000);
    assertThat(test.size()).isEqualTo(2000);
    assertThat(train.numFeatures()).isEqualTo(784);
    // the first image of both Fashion-MNIST files is an ankle boot (class 9)
    assertThat(train.label(0)).isEqualTo(9);
    assertThat(test.label(0)).isEqualTo(9);
    assertThat(train.ids()[0]).isEqualTo(0);
    assertThat(test.ids()[0]).isEqualTo(BundledData.TEST_FIRST_ID);
    int[] perClass = new int[10];
    for (int y : train.labels()) {
      assertThat(y).isBetween(0, 9);
      perClass[y]++;
    }
    assertThat(perClass).containsOnly(300);
    float max = 0;
    for (float[] row : train.features()) {
      for (float v : row) {
        assertThat(v).isBetween(0f, 1f);
        max = Math.max(max, v);
      }
    }
    assertThat(max).isEqualTo(1f);
    train.validate("bundled train", 10);
  }
}
