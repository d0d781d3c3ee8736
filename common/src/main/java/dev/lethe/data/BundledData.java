package dev.lethe.data;

import dev.lethe.LetheInputException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * The Fashion-MNIST subset shipped inside lethe-common (Xiao, Rasul, Vollgraf 2017, Zalando Research, MIT
 * licence): 3000 training images (the first 300 of each class of the original training file, in file order) and
 * 2000 test images (the first 200 of each class of the original test file), 28 x 28 grey levels, 10 classes.
 * It is what {@code lethe.data.source = bundled} and the {@code demo} command read.
 *
 * <p>The files live on the classpath under {@value #RESOURCE_DIR}, next to their {@code COPYRIGHT} and
 * {@code LICENSE}; {@code tools/MakeBundledSubset.java} regenerates them byte for byte from the full data set.
 * Training ids are {@code 0..2999}, test ids {@value #TEST_FIRST_ID} + index, so ids never collide between the
 * two tables.
 */
public final class BundledData {
  /** Classpath directory of the bundled files. */
  public static final String RESOURCE_DIR = "/dev/lethe/data/fashion-mnist/";
  /** Id of the first training example. */
  public static final long TRAIN_FIRST_ID = 0L;
  /** Id of the first test example. */
  public static final long TEST_FIRST_ID = 1_000_000L;
  public static final int TRAIN_SIZE = 3000;
  public static final int TEST_SIZE = 2000;
  public static final int NUM_CLASSES = 10;
  public static final int HEIGHT = 28;
  public static final int WIDTH = 28;

  private static final List<String> CLASS_NAMES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

  private BundledData() {}

  /** The 3000 bundled training examples, ids 0..2999, in file order. A fresh copy on every call. */
  public static ExampleSet train() {
    return read("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", TRAIN_FIRST_ID);
  }

  /** The 2000 bundled test examples, ids 1_000_000..1_001_999, in file order. A fresh copy on every call. */
  public static ExampleSet test() {
    return read("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", TEST_FIRST_ID);
  }

  /** Fashion-MNIST class names, indexed by label. */
  public static List<String> classNames() {
    return CLASS_NAMES;
  }

  /** Reads an image/label pair of resources from {@link #RESOURCE_DIR}. */
  static ExampleSet read(String imagesFile, String labelsFile, long firstId) {
    String images = RESOURCE_DIR + imagesFile;
    String labels = RESOURCE_DIR + labelsFile;
    try (InputStream i = open(images); InputStream l = open(labels)) {
      return IdxReader.readPair(i, "classpath:" + images, l, "classpath:" + labels, firstId);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot close bundled resource: " + e.getMessage(), e);
    }
  }

  private static InputStream open(String resource) {
    InputStream in = BundledData.class.getResourceAsStream(resource);
    if (in == null) {
      throw LetheInputException.of("classpath:%s: bundled data not found on the classpath (is the lethe-common"
          + " jar complete?)", resource);
    }
    return in;
  }
}
