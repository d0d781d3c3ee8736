package dev.lethe.math;

import dev.lethe.LetheInputException;
import dev.lethe.data.ExampleSet;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * log p(y | x, theta_hat) of every training example, by id, as the fisher stage computes it in double precision in
 * the forward pass of each example's gradient
 * ({@link dev.lethe.math.cnn.FastCnn#forEachExampleGradient(ExampleSet, double[], PerExampleGradients.Visitor)}):
 * the same values as {@link LogLikelihood#perExample} on the double-precision copy of theta_hat, to the bit.
 * EWC-influence's r(z) = log p(z | theta_hat) - log p(z | theta*) then needs one forward pass per example (at theta*)
 * instead of two.
 *
 * <p>Each entry carries a 64-bit hash of the row it was computed for ({@link #rowHash}: label and feature bits),
 * and the table the fingerprint of its model, so a value is only ever used for the same model and the same row:
 * {@link #lookup} rejects an id it does not hold or a row that changed since (bad input: rerun the fisher stage).
 *
 * <p>Binary form ({@link #toBytes}), big-endian: magic {@code "LETHELP1"} (8 ASCII bytes), row count (int),
 * fingerprint (int byte length + UTF-8), then per row in ascending id order: id (long), row hash (long), log p
 * (double); CRC32 of all preceding bytes (int).
 */
public final class RowLogLikelihoods implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final byte[] MAGIC = "LETHELP1".getBytes(StandardCharsets.US_ASCII);

  private final long[] ids;
  private final long[] hashes;
  private final double[] logLik;
  private final String modelFingerprint;
  /** Names this table in error messages (the file it was read from). */
  private final String source;

  private RowLogLikelihoods(long[] ids, long[] hashes, double[] logLik, String modelFingerprint, String source) {
    this.ids = ids;
    this.hashes = hashes;
    this.logLik = logLik;
    this.modelFingerprint = modelFingerprint == null ? "" : modelFingerprint;
    this.source = source;
  }

  public int size() {
    return ids.length;
  }

  public String modelFingerprint() {
    return modelFingerprint;
  }

  /**
   * A 64-bit hash of row {@code i} of {@code s} as a model sees it: its label and the bits of its features (not
   * its id, original label or corruption flag).
   */
  public static long rowHash(ExampleSet s, int i) {
    long h = mix(0x9E3779B97F4A7C15L ^ s.label(i));
    float[] f = s.features(i);
    for (float v : f) {
      h = mix(h ^ Float.floatToRawIntBits(v)) + 0x632BE59BD9B4E019L;
    }
    return mix(h ^ f.length);
  }

  /** A bijective 64-bit mixer (the finaliser of SplitMix64). */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /**
   * log p(y | x, theta_hat) of row {@code i} of {@code s}.
   *
   * @throws LetheInputException naming the table's source when it has no entry for the row's id, or its entry was
   *     computed for a row with other features or another label
   */
  public double lookup(ExampleSet s, int i) {
    long id = s.id(i);
    int at = Arrays.binarySearch(ids, id);
    if (at < 0) {
      throw LetheInputException.of("%s has no log-likelihood for training row id %d: the training table changed"
          + " since the fisher stage (rerun `lethe fisher --overwrite`)", source, id);
    }
    if (hashes[at] != rowHash(s, i)) {
      throw LetheInputException.of("%s: training row id %d has other features or another label than when the fisher"
          + " stage ran (rerun `lethe fisher --overwrite`)", source, id);
    }
    return logLik[at];
  }

  /**
   * @throws LetheInputException naming the table's source when it was computed for another model, or holds another
   *     number of rows than the training table's {@code rows}
   */
  public void requireMatches(String fingerprint, long rows) {
    if (!modelFingerprint.equals(fingerprint)) {
      throw LetheInputException.of("%s: log-likelihoods of another model: computed for model %s, the model is %s"
          + " (rerun `lethe fisher --overwrite`)", source, modelFingerprint, fingerprint);
    }
    if (ids.length != rows) {
      throw LetheInputException.of("%s holds %d rows, the training table has %d: the training table changed since"
          + " the fisher stage (rerun `lethe fisher --overwrite`)", source, ids.length, rows);
    }
  }

  /** Collects entries (in any order; from several partitions by {@link #merge}); {@link #build} sorts them. */
  public static final class Builder implements Serializable {
    private static final long serialVersionUID = 1L;
    private long[] ids = new long[16];
    private long[] hashes = new long[16];
    private double[] logLik = new double[16];
    private int n;

    /** Adds every row of {@code s} with its log-likelihood {@code logLik[i]}. */
    public Builder add(ExampleSet s, double[] logLik) {
      PerExampleGradients.requireOnePerRow(logLik, s);
      for (int i = 0; i < s.size(); i++) {
        add(s.id(i), rowHash(s, i), logLik[i]);
      }
      return this;
    }

    public Builder add(long id, long hash, double value) {
      if (n == ids.length) {
        int cap = Math.max(16, 2 * n);
        ids = Arrays.copyOf(ids, cap);
        hashes = Arrays.copyOf(hashes, cap);
        logLik = Arrays.copyOf(logLik, cap);
      }
      ids[n] = id;
      hashes[n] = hash;
      logLik[n] = value;
      n++;
      return this;
    }

    /** Adds {@code other}'s entries to this builder and returns it. */
    public Builder merge(Builder other) {
      for (int i = 0; i < other.n; i++) {
        add(other.ids[i], other.hashes[i], other.logLik[i]);
      }
      return this;
    }

    public int size() {
      return n;
    }

    /**
     * The table, in ascending id order.
     *
     * @param source names the table in error messages
     * @throws IllegalArgumentException when an id occurs twice
     */
    public RowLogLikelihoods build(String modelFingerprint, String source) {
      Integer[] order = new Integer[n];
      for (int i = 0; i < n; i++) {
        order[i] = i;
      }
      Arrays.sort(order, (a, b) -> Long.compare(ids[a], ids[b]));
      long[] sid = new long[n];
      long[] sh = new long[n];
      double[] sl = new double[n];
      for (int i = 0; i < n; i++) {
        sid[i] = ids[order[i]];
        sh[i] = hashes[order[i]];
        sl[i] = logLik[order[i]];
        if (i > 0 && sid[i] == sid[i - 1]) {
          throw new IllegalArgumentException("training row id " + sid[i] + " occurs twice");
        }
      }
      return new RowLogLikelihoods(sid, sh, sl, modelFingerprint, source);
    }
  }

  /** The binary form described in the class comment. */
  public byte[] toBytes() {
    return CheckedBytes.write(MAGIC, 64 + ids.length * 24, out -> {
      out.writeInt(ids.length);
      byte[] fp = modelFingerprint.getBytes(StandardCharsets.UTF_8);
      out.writeInt(fp.length);
      out.write(fp);
      for (int i = 0; i < ids.length; i++) {
        out.writeLong(ids[i]);
        out.writeLong(hashes[i]);
        out.writeDouble(logLik[i]);
      }
    });
  }


  /**
   * Parses {@link #toBytes} output.
   *
   * @param source names the input in error messages (these and the table's)
   * @throws LetheInputException if the bytes are truncated, corrupt (CRC mismatch), not in ascending id order or
   *     not a Lethe log-likelihood file
   */
  public static RowLogLikelihoods fromBytes(byte[] bytes, String source) {
    if (bytes == null || bytes.length < MAGIC.length + 4 + 4 + 4) {
      throw LetheInputException.of("%s: not a Lethe log-likelihood file (truncated: %d bytes)", source,
          bytes == null ? 0 : bytes.length);
    }
    if (!Arrays.equals(Arrays.copyOf(bytes, MAGIC.length), MAGIC)) {
      throw LetheInputException.of("%s: not a Lethe log-likelihood file (bad magic, expected LETHELP1)", source);
    }
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      in.skipNBytes(MAGIC.length);
      int rows = in.readInt();
      int fpLength = in.readInt();
      long expected = (long) MAGIC.length + 4 + 4 + Math.max(0, fpLength) + 24L * Math.max(0, rows) + 4;
      if (rows < 0 || fpLength < 0 || expected != bytes.length) {
        throw LetheInputException.of("%s: corrupt or truncated log-likelihood file (header says %d rows and a"
            + " %d-byte fingerprint, file has %d bytes)", source, rows, fpLength, bytes.length);
      }
      byte[] fp = in.readNBytes(fpLength);
      long[] ids = new long[rows];
      long[] hashes = new long[rows];
      double[] logLik = new double[rows];
      for (int i = 0; i < rows; i++) {
        ids[i] = in.readLong();
        hashes[i] = in.readLong();
        logLik[i] = in.readDouble();
      }
      if (!CheckedBytes.crcMatches(bytes)) {
        throw LetheInputException.of("%s: corrupt log-likelihood file (CRC32 mismatch)", source);
      }
      for (int i = 1; i < rows; i++) {
        if (ids[i] <= ids[i - 1]) {
          throw LetheInputException.of("%s: corrupt log-likelihood file (ids not in ascending order at row %d)",
              source, i);
        }
      }
      return new RowLogLikelihoods(ids, hashes, logLik, new String(fp, StandardCharsets.UTF_8), source);
    } catch (IOException e) {
      throw new LetheInputException(source + ": corrupt or truncated log-likelihood file", e);
    }
  }
}
