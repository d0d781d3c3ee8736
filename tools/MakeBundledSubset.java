import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.Deflater;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * Rebuilds the Fashion-MNIST subset bundled in lethe-common
 * ({@code common/src/main/resources/dev/lethe/data/fashion-mnist/}) from the full data set.
 *
 * <p>Keeps the first 300 training and the first 200 test images of each of the 10 classes, in file order
 * (the original relative order is kept), and writes them as gzipped IDX files. The output is byte-for-byte
 * reproducible: Java's gzip header carries no timestamp or file name.
 *
 * <p>Run from the repository root (a JDK 17 single-file program, no build needed):
 *
 * <pre>
 *   java tools/MakeBundledSubset.java /path/to/fashion-mnist [output-dir]
 * </pre>
 *
 * The input directory holds {@code train-images-idx3-ubyte.gz}, {@code train-labels-idx1-ubyte.gz},
 * {@code t10k-images-idx3-ubyte.gz} and {@code t10k-labels-idx1-ubyte.gz} (gzipped or plain). The licence
 * files next to the output ({@code COPYRIGHT}, {@code LICENSE}) are maintained by hand.
 */
public final class MakeBundledSubset {
  private static final int NUM_CLASSES = 10;
  private static final int TRAIN_PER_CLASS = 300;
  private static final int TEST_PER_CLASS = 200;
  private static final int IMAGES_MAGIC = 2051;
  private static final int LABELS_MAGIC = 2049;
  private static final Path DEFAULT_OUT = Path.of("common/src/main/resources/dev/lethe/data/fashion-mnist");

  private MakeBundledSubset() {}

  public static void main(String[] args) throws IOException {
    if (args.length < 1 || args.length > 2) {
      System.err.println("usage: java tools/MakeBundledSubset.java FASHION_MNIST_DIR [OUTPUT_DIR]");
      System.exit(2);
    }
    Path in = Path.of(args[0]);
    Path out = args.length == 2 ? Path.of(args[1]) : DEFAULT_OUT;
    Files.createDirectories(out);
    subset(in, out, "train", TRAIN_PER_CLASS);
    subset(in, out, "t10k", TEST_PER_CLASS);
  }

  private static void subset(Path in, Path out, String split, int perClass) throws IOException {
    String imagesName = split + "-images-idx3-ubyte.gz";
    String labelsName = split + "-labels-idx1-ubyte.gz";
    ByteBuffer images = ByteBuffer.wrap(readMaybeGzip(in.resolve(imagesName)));
    ByteBuffer labels = ByteBuffer.wrap(readMaybeGzip(in.resolve(labelsName)));
    require(images.getInt() == IMAGES_MAGIC, imagesName + ": not an IDX image file");
    require(labels.getInt() == LABELS_MAGIC, labelsName + ": not an IDX label file");
    int count = images.getInt();
    int rows = images.getInt();
    int cols = images.getInt();
    require(labels.getInt() == count, split + ": image and label counts differ");
    int imageBytes = rows * cols;
    require(images.remaining() == (long) count * imageBytes, imagesName + ": wrong size");
    require(labels.remaining() == count, labelsName + ": wrong size");

    int[] taken = new int[NUM_CLASSES];
    int wanted = NUM_CLASSES * perClass;
    ByteArrayOutputStream keptImages = new ByteArrayOutputStream(wanted * imageBytes);
    ByteArrayOutputStream keptLabels = new ByteArrayOutputStream(wanted);
    int kept = 0;
    byte[] image = new byte[imageBytes];
    for (int i = 0; i < count && kept < wanted; i++) {
      int label = labels.get(8 + i) & 0xFF;
      require(label < NUM_CLASSES, labelsName + ": label " + label + " at index " + i);
      if (taken[label] == perClass) {
        continue;
      }
      taken[label]++;
      kept++;
      images.get(16 + i * imageBytes, image);
      keptImages.write(image);
      keptLabels.write(label);
    }
    require(kept == wanted, split + ": fewer than " + perClass + " images in some class");

    writeGzip(out.resolve(imagesName), header(IMAGES_MAGIC, kept, rows, cols), keptImages.toByteArray());
    writeGzip(out.resolve(labelsName), header(LABELS_MAGIC, kept), keptLabels.toByteArray());
    System.out.printf("%s: kept %d of %d (%d per class) -> %s%n", split, kept, count, perClass, out);
  }

  private static byte[] readMaybeGzip(Path file) throws IOException {
    byte[] raw = Files.readAllBytes(file);
    if (raw.length >= 2 && (raw[0] & 0xFF) == 0x1f && (raw[1] & 0xFF) == 0x8b) {
      try (InputStream gz = new GZIPInputStream(Files.newInputStream(file), 1 << 16)) {
        return gz.readAllBytes();
      }
    }
    return raw;
  }

  private static byte[] header(int... ints) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream data = new DataOutputStream(bytes);
    for (int v : ints) {
      data.writeInt(v);
    }
    return bytes.toByteArray();
  }

  private static void writeGzip(Path file, byte[] header, byte[] body) throws IOException {
    try (OutputStream gz = new GZIPOutputStream(Files.newOutputStream(file), 1 << 16) {
      {
        def.setLevel(Deflater.BEST_COMPRESSION);
      }
    }) {
      gz.write(header);
      gz.write(body);
    }
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalStateException(message);
    }
  }
}
