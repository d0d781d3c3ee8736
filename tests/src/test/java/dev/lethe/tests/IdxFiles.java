package dev.lethe.tests;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Small IDX files (the MNIST format) for tests of prepare: black 28 x 28 images and given labels. */
final class IdxFiles {
  static final int PIXELS = 28 * 28;

  private IdxFiles() {}

  /** {@code count} black 28 x 28 images. */
  static Path images(Path file, int count) {
    ByteBuffer img = ByteBuffer.allocate(16 + count * PIXELS);
    img.putInt(2051).putInt(count).putInt(28).putInt(28);
    return write(file, img.array());
  }

  /** One label per value. */
  static Path labels(Path file, int... values) {
    ByteBuffer b = ByteBuffer.allocate(8 + values.length).putInt(2049).putInt(values.length);
    for (int v : values) {
      b.put((byte) v);
    }
    return write(file, b.array());
  }

  /** Runs prepare on {@code work} from the given IDX files, with {@code extra} arguments. */
  static SharedSpark.Run prepare(Path work, Path trainImages, Path trainLabels, Path testImages, Path testLabels,
      String... extra) {
    List<String> a = new ArrayList<>(List.of("--workdir", work.toString(), "--set", "data.source=idx",
        "--set", "data.idx.train-images=" + trainImages, "--set", "data.idx.train-labels=" + trainLabels,
        "--set", "data.idx.test-images=" + testImages, "--set", "data.idx.test-labels=" + testLabels));
    a.addAll(List.of(extra));
    return SharedSpark.run("prepare", a.toArray(new String[0]));
  }

  private static Path write(Path file, byte[] bytes) {
    try {
      return Files.write(file, bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
