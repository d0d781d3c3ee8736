package dev.lethe.data;

/**
 * The content of an IDX image file: {@code count} images of {@code rows x cols} pixels, each flattened row-major
 * into {@code pixels[i]} (length {@code rows * cols}) and scaled from the stored unsigned bytes to [0, 1] by
 * {@code byte / 255f}.
 *
 * <p>The array is owned by the record (not copied); equality is by reference, as for any record with an array
 * component.
 */
public record IdxImages(int count, int rows, int cols, float[][] pixels) {

  /** Checks that {@code count} matches the number of rows in {@code pixels}. */
  public IdxImages {
    if (pixels.length != count) {
      throw new IllegalArgumentException("count " + count + " but " + pixels.length + " pixel rows");
    }
  }

  /** Pixels per image ({@code rows * cols}): the feature count of an example. */
  public int numFeatures() {
    return rows * cols;
  }
}
