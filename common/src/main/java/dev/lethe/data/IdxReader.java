package dev.lethe.data;

import dev.lethe.LetheInputException;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads MNIST-format IDX files (http://yann.lecun.com/exdb/mnist/, also used by Fashion-MNIST): an image file
 * (magic 2051 = unsigned bytes, 3 dimensions: count, rows, cols) and a label file (magic 2049 = unsigned bytes,
 * 1 dimension: count), header integers big-endian, followed by the bytes in row-major order. A stream that
 * starts with the gzip header {@code 1f 8b} is decompressed; anything else is read as plain IDX.
 *
 * <p>Malformed input (empty, wrong magic number, truncated, trailing bytes, corrupt gzip, images and labels that
 * do not pair up) throws {@link LetheInputException} with a message that starts with the {@code source} name
 * and says what was expected and what was found. Other I/O failures throw {@link UncheckedIOException}.
 *
 * <p>The given streams are read to their end but not closed: whoever opened them closes them. Pixel data is read
 * in blocks of whole images (about 1 MiB at a time), so memory grows with the data actually present, not with
 * the count a header claims.
 */
public final class IdxReader {
  /** Magic number of an IDX image file: unsigned bytes (0x08), 3 dimensions. */
  public static final int IMAGES_MAGIC = 0x00000803;
  /** Magic number of an IDX label file: unsigned bytes (0x08), 1 dimension. */
  public static final int LABELS_MAGIC = 0x00000801;

  private static final Logger LOG = LoggerFactory.getLogger(IdxReader.class);
  private static final int IMAGES_HEADER_BYTES = 16;
  private static final int LABELS_HEADER_BYTES = 8;
  private static final int BUFFER_BYTES = 1 << 16;
  private static final int BLOCK_BYTES = 1 << 20;
  /** Largest image accepted (pixels): guards against allocating for a garbage header. */
  private static final int MAX_IMAGE_PIXELS = 1 << 24;
  private static final float[] SCALE = new float[256];

  static {
    for (int b = 0; b < 256; b++) {
      SCALE[b] = b / 255f;
    }
  }

  private IdxReader() {}

  /**
   * Reads an IDX image file.
   *
   * @param in the file's bytes, gzipped or plain (not closed)
   * @param source names the input in error messages (a path or resource name)
   * @throws LetheInputException if the input is not a well-formed IDX image file
   */
  public static IdxImages readImages(InputStream in, String source) {
    try (Decoded s = Decoded.of(in)) {
      byte[] header = readHeader(s, source, IMAGES_MAGIC, IMAGES_HEADER_BYTES);
      int count = bigEndianInt(header, 4);
      int rows = bigEndianInt(header, 8);
      int cols = bigEndianInt(header, 12);
      if (count < 0 || rows <= 0 || cols <= 0 || (long) rows * cols > MAX_IMAGE_PIXELS) {
        throw LetheInputException.of("%s: implausible IDX image header: %d images of %d x %d pixels", source,
            count, rows, cols);
      }
      float[][] pixels = readPixels(s, source, count, rows, cols);
      requireEnd(s, source, count, "images");
      return new IdxImages(count, rows, cols, pixels);
    } catch (IOException e) {
      throw translate(e, source);
    }
  }

  /**
   * Reads an IDX label file: one unsigned byte per example, returned as ints in 0..255 (range against the number
   * of classes is checked later, by {@link ExampleSet#validate}).
   *
   * @param in the file's bytes, gzipped or plain (not closed)
   * @param source names the input in error messages
   * @throws LetheInputException if the input is not a well-formed IDX label file
   */
  public static int[] readLabels(InputStream in, String source) {
    try (Decoded s = Decoded.of(in)) {
      byte[] header = readHeader(s, source, LABELS_MAGIC, LABELS_HEADER_BYTES);
      int count = bigEndianInt(header, 4);
      if (count < 0) {
        throw LetheInputException.of("%s: implausible IDX label header: %d labels", source, count);
      }
      byte[] bytes = s.readNBytes(count);
      if (bytes.length < count) {
        throw LetheInputException.of("%s: truncated file: header declares %d labels, found only %d", source,
            count, bytes.length);
      }
      requireEnd(s, source, count, "labels");
      int[] labels = new int[count];
      for (int i = 0; i < count; i++) {
        labels[i] = bytes[i] & 0xFF;
      }
      return labels;
    } catch (IOException e) {
      throw translate(e, source);
    }
  }

  /**
   * Reads an image file and its label file into clean examples with ids {@code firstId, firstId + 1, ...} in
   * file order.
   *
   * @throws LetheInputException if either file is malformed or their counts differ
   */
  public static ExampleSet readPair(InputStream images, String imagesSource, InputStream labels,
      String labelsSource, long firstId) {
    long start = System.nanoTime();
    IdxImages img = readImages(images, imagesSource);
    int[] lab = readLabels(labels, labelsSource);
    if (img.count() != lab.length) {
      throw LetheInputException.of("count mismatch: %s has %d images but %s has %d labels", imagesSource,
          img.count(), labelsSource, lab.length);
    }
    long[] ids = new long[img.count()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = Math.addExact(firstId, i);
    }
    LOG.debug("read {} examples of {}x{} from {} and {} in {} ms", ids.length, img.rows(), img.cols(),
        imagesSource, labelsSource, (System.nanoTime() - start) / 1_000_000);
    return ExampleSet.clean(ids, img.pixels(), lab, img.numFeatures());
  }

  /**
   * {@link #readPair(InputStream, String, InputStream, String, long)} on two local files.
   *
   * @throws LetheInputException if a file does not exist or is malformed
   */
  public static ExampleSet readPair(Path images, Path labels, long firstId) {
    try (InputStream i = Files.newInputStream(images); InputStream l = Files.newInputStream(labels)) {
      return readPair(i, images.toString(), l, labels.toString(), firstId);
    } catch (NoSuchFileException e) {
      throw LetheInputException.of("%s: file not found", e.getFile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + images + " / " + labels + ": " + e.getMessage(), e);
    }
  }

  private static byte[] readHeader(Decoded s, String source, int magic, int headerBytes) throws IOException {
    String kind = magic == IMAGES_MAGIC ? "image" : "label";
    byte[] header = new byte[headerBytes];
    int got = s.readNBytes(header, 0, 4);
    if (got == 0) {
      throw LetheInputException.of("%s: empty file%s (expected an IDX %s file)", source,
          s.gzip ? " after gzip decompression" : "", kind);
    }
    if (got == 4) {
      int found = bigEndianInt(header, 0);
      if (found != magic) {
        throw LetheInputException.of("%s: wrong magic number 0x%08X (%d), expected 0x%08X (%d) for an IDX %s"
            + " file%s", source, found, found, magic, magic, kind, describeMagic(found, s.gzip));
      }
      got += s.readNBytes(header, 4, headerBytes - 4);
    }
    if (got < headerBytes) {
      throw LetheInputException.of("%s: truncated file: the IDX %s header needs %d bytes, found only %d", source,
          kind, headerBytes, got);
    }
    return header;
  }

  private static String describeMagic(int found, boolean gzip) {
    if (found == LABELS_MAGIC) {
      return "; this is an IDX label file";
    }
    if (found == IMAGES_MAGIC) {
      return "; this is an IDX image file";
    }
    if ((found >>> 16) == 0) {
      return String.format(Locale.ROOT, "; an IDX file of data type 0x%02X with %d dimensions is not supported"
          + " (only unsigned bytes)", (found >>> 8) & 0xFF, found & 0xFF);
    }
    return gzip ? "; the decompressed data is not IDX" : "; the file is neither gzip nor IDX";
  }

  private static float[][] readPixels(Decoded s, String source, int count, int rows, int cols)
      throws IOException {
    int imageBytes = rows * cols;
    int blockImages = Math.max(1, BLOCK_BYTES / imageBytes);
    byte[] block = new byte[Math.min(blockImages, Math.max(count, 1)) * imageBytes];
    List<float[]> pixels = new ArrayList<>(Math.min(count, 1 << 16));
    long read = 0;
    while (pixels.size() < count) {
      int want = Math.min(blockImages, count - pixels.size()) * imageBytes;
      int got = s.readNBytes(block, 0, want);
      read += got;
      for (int off = 0; off + imageBytes <= got; off += imageBytes) {
        float[] image = new float[imageBytes];
        for (int p = 0; p < imageBytes; p++) {
          image[p] = SCALE[block[off + p] & 0xFF];
        }
        pixels.add(image);
      }
      if (got < want) {
        throw LetheInputException.of("%s: truncated file: header declares %d images of %d x %d (%d bytes of"
            + " pixels), found only %d bytes (%d complete images)", source, count, rows, cols,
            (long) count * imageBytes, read, pixels.size());
      }
    }
    return pixels.toArray(new float[0][]);
  }

  private static void requireEnd(Decoded s, String source, int count, String what) throws IOException {
    if (s.read() != -1) {
      throw LetheInputException.of("%s: unexpected bytes after the %d %s the header declares (wrong count in"
          + " the header, or not an IDX file?)", source, count, what);
    }
  }

  private static RuntimeException translate(IOException e, String source) {
    if (e instanceof ZipException) {
      return new LetheInputException(source + ": corrupt gzip data (" + e.getMessage() + ")", e);
    }
    if (e instanceof EOFException) {
      return new LetheInputException(source + ": truncated gzip data (" + e.getMessage() + ")", e);
    }
    return new UncheckedIOException(source + ": read failed: " + e.getMessage(), e);
  }

  private static int bigEndianInt(byte[] b, int off) {
    return ((b[off] & 0xFF) << 24) | ((b[off + 1] & 0xFF) << 16) | ((b[off + 2] & 0xFF) << 8) | (b[off + 3] & 0xFF);
  }

  /** The decoded byte stream (gunzipped when the input starts with the gzip header); never closes the input. */
  private static final class Decoded extends FilterInputStream {
    final boolean gzip;

    private Decoded(InputStream in, boolean gzip) {
      super(in);
      this.gzip = gzip;
    }

    static Decoded of(InputStream raw) throws IOException {
      InputStream unclosed = new FilterInputStream(raw) {
        @Override
        public void close() {
          // the caller owns the stream
        }
      };
      BufferedInputStream buffered = new BufferedInputStream(unclosed, BUFFER_BYTES);
      buffered.mark(2);
      int b0 = buffered.read();
      int b1 = buffered.read();
      buffered.reset();
      if (b0 == 0x1f && b1 == 0x8b) {
        return new Decoded(new BufferedInputStream(new GZIPInputStream(buffered, BUFFER_BYTES), BUFFER_BYTES),
            true);
      }
      return new Decoded(buffered, false);
    }
  }
}
