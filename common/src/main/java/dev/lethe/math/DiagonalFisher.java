package dev.lethe.math;

import dev.lethe.LetheInputException;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The diagonal of the empirical Fisher at theta_hat (Tanno et al. 2022, Eq. 10): one value per parameter (same
 * order as {@code net.params()}), the number of examples it averages, and the fingerprint of the model it was
 * computed for ({@link NetworkBytes#fingerprint}).
 *
 * <p>Binary form ({@link #toBytes}), big-endian: magic {@code "LETHEFI1"} (8 ASCII bytes), count (long), length
 * (int), fingerprint (int byte length + UTF-8), values (length doubles), CRC32 of all preceding bytes (int).
 */
public final class DiagonalFisher implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final byte[] MAGIC = "LETHEFI1".getBytes(StandardCharsets.US_ASCII);

  private final double[] values;
  private final long count;
  private final String modelFingerprint;

  /** The array is owned by this object afterwards (not copied). */
  public DiagonalFisher(double[] values, long count, String modelFingerprint) {
    if (count < 0) {
      throw new IllegalArgumentException("count must be >= 0, got " + count);
    }
    this.values = values;
    this.count = count;
    this.modelFingerprint = modelFingerprint == null ? "" : modelFingerprint;
  }

  /** F_jj per parameter; the array is shared: do not modify it. */
  public double[] values() {
    return values;
  }

  public long count() {
    return count;
  }

  public String modelFingerprint() {
    return modelFingerprint;
  }

  public int size() {
    return values.length;
  }

  /**
   * @throws LetheInputException "Fisher from another model" (naming {@code source}) if the parameter count or
   *     the model fingerprint differ; a null {@code fingerprint} checks the size only
   */
  public void requireMatches(long numParams, String fingerprint, String source) {
    if (values.length != numParams) {
      throw LetheInputException.of("%s: Fisher from another model: it has %d values, the model has %d parameters",
          source, values.length, numParams);
    }
    if (fingerprint != null && !fingerprint.equals(modelFingerprint)) {
      throw LetheInputException.of("%s: Fisher from another model: computed for model %s, the model is %s",
          source, modelFingerprint, fingerprint);
    }
  }

  /** The binary form described in the class comment. */
  public byte[] toBytes() {
    return CheckedBytes.write(MAGIC, 64 + values.length * 8, out -> {
      out.writeLong(count);
      out.writeInt(values.length);
      byte[] fp = modelFingerprint.getBytes(StandardCharsets.UTF_8);
      out.writeInt(fp.length);
      out.write(fp);
      for (double v : values) {
        out.writeDouble(v);
      }
    });
  }


  /**
   * Parses {@link #toBytes} output.
   *
   * @param source names the input (file or table) in error messages
   * @throws LetheInputException if the bytes are truncated, corrupt (CRC mismatch) or not a Lethe Fisher file
   */
  public static DiagonalFisher fromBytes(byte[] bytes, String source) {
    if (bytes == null || bytes.length < MAGIC.length + 8 + 4 + 4 + 4) {
      throw LetheInputException.of("%s: not a Lethe Fisher file (truncated: %d bytes)", source,
          bytes == null ? 0 : bytes.length);
    }
    if (!Arrays.equals(Arrays.copyOf(bytes, MAGIC.length), MAGIC)) {
      throw LetheInputException.of("%s: not a Lethe Fisher file (bad magic, expected LETHEFI1)", source);
    }
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      in.skipNBytes(MAGIC.length);
      long count = in.readLong();
      int length = in.readInt();
      int fpLength = in.readInt();
      long expected = (long) MAGIC.length + 8 + 4 + 4 + Math.max(0, fpLength) + 8L * Math.max(0, length) + 4;
      if (count < 0 || length < 0 || fpLength < 0 || expected != bytes.length) {
        throw LetheInputException.of("%s: corrupt or truncated Fisher file (header says %d values and a %d-byte"
            + " fingerprint, file has %d bytes)", source, length, fpLength, bytes.length);
      }
      byte[] fp = in.readNBytes(fpLength);
      double[] values = new double[length];
      for (int j = 0; j < length; j++) {
        values[j] = in.readDouble();
      }
      if (!CheckedBytes.crcMatches(bytes)) {
        throw LetheInputException.of("%s: corrupt Fisher file (CRC32 mismatch)", source);
      }
      // a valid checksum says the bytes are as written, not that the writer computed a Fisher diagonal: a mean of
      // squared gradients is finite and >= 0, and anything else would rank culprits by meaningless scores
      for (int j = 0; j < length; j++) {
        if (!Double.isFinite(values[j]) || values[j] < 0) {
          throw LetheInputException.of("%s: not a Fisher diagonal: value %s at index %d (every value must be finite"
              + " and >= 0)", source, values[j], j);
        }
      }
      return new DiagonalFisher(values, count, new String(fp, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new LetheInputException(source + ": corrupt or truncated Fisher file", e);
    }
  }
}
