package dev.lethe.model;

import java.util.List;

/**
 * What model to build.
 *
 * @param architecture the family
 * @param channels image channels
 * @param height image height
 * @param width image width
 * @param numClasses output classes
 * @param hidden widths of the hidden layers ({@link Architecture#MLP} only)
 * @param seed weight initialisation seed
 */
public record ModelOptions(Architecture architecture, int channels, int height, int width, int numClasses,
    List<Integer> hidden, long seed) implements java.io.Serializable {

  public ModelOptions {
    if (channels <= 0 || height <= 0 || width <= 0) {
      throw new IllegalArgumentException("data.channels/height/width must be > 0, got " + channels + " x " + height
          + " x " + width);
    }
    if (numClasses < 2) {
      throw new IllegalArgumentException("data.num-classes must be >= 2, got " + numClasses);
    }
    hidden = List.copyOf(hidden);
    for (int h : hidden) {
      if (h <= 0) {
        throw new IllegalArgumentException("model.hidden: layer widths must be > 0, got " + hidden);
      }
    }
    if (architecture == Architecture.MLP && hidden.isEmpty()) {
      throw new IllegalArgumentException("model.hidden must name at least one layer width for the mlp");
    }
    if (architecture == Architecture.CNN && (height < 4 || width < 4)) {
      throw new IllegalArgumentException("the cnn needs images of at least 4 x 4 pixels, got " + height + " x "
          + width);
    }
  }

  /** Length of a flattened input row. */
  public int numFeatures() {
    return channels * height * width;
  }
}
