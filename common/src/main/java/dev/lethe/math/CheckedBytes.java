package dev.lethe.math;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.zip.CRC32;

/**
 * Lethe's small binary files ({@link DiagonalFisher}, {@link RowLogLikelihoods}): a magic string, a big-endian body,
 * and the CRC32 of all preceding bytes as the last (int) field.
 */
public final class CheckedBytes {
  private CheckedBytes() {}

  /** Writes the body of a file. */
  public interface Body {
    void write(DataOutputStream out) throws IOException;
  }

  /** {@code magic}, then what {@code body} writes, then the CRC32 of both. */
  public static byte[] write(byte[] magic, int sizeHint, Body body) {
    try {
      ByteArrayOutputStream bos = new ByteArrayOutputStream(sizeHint);
      DataOutputStream out = new DataOutputStream(bos);
      out.write(magic);
      body.write(out);
      out.flush();
      CRC32 crc = new CRC32();
      crc.update(bos.toByteArray());
      out.writeInt((int) crc.getValue());
      out.flush();
      return bos.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Whether the last four bytes of {@code bytes} are the CRC32 of the ones before them. */
  public static boolean crcMatches(byte[] bytes) {
    if (bytes.length < 4) {
      return false;
    }
    CRC32 crc = new CRC32();
    crc.update(bytes, 0, bytes.length - 4);
    int n = bytes.length;
    int stored = ((bytes[n - 4] & 0xff) << 24) | ((bytes[n - 3] & 0xff) << 16) | ((bytes[n - 2] & 0xff) << 8)
        | (bytes[n - 1] & 0xff);
    return stored == (int) crc.getValue();
  }
}
