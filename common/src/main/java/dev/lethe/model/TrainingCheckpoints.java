package dev.lethe.model;

import dev.lethe.LetheInputException;
import dev.lethe.math.CheckedBytes;
import dev.lethe.math.NetworkBytes;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The parameter checkpoints theta_c of a training run that TracIn-CP sums over (Pruthi et al. 2020, Eq. 3), each with
 * the learning rate lr_c in force at it: k epochs spaced evenly up to the kept (best) epoch, whose parameters are
 * theta_hat, so the last checkpoint is the trained model itself. Stored as model/checkpoints.bin: a magic string,
 * the network configuration, the fingerprint of theta_hat, then per checkpoint its epoch, learning rate and parameter
 * bytes, and a CRC32.
 *
 * @param config the network configuration ({@link NetworkBytes#configBytes})
 * @param modelFingerprint the fingerprint of theta_hat (model/base.zip), which the last checkpoint equals
 * @param checkpoints in epoch order, at least one
 */
public record TrainingCheckpoints(byte[] config, String modelFingerprint, List<Checkpoint> checkpoints) {
  private static final byte[] MAGIC = "LETHECK1".getBytes(StandardCharsets.US_ASCII);

  /**
   * One checkpoint.
   *
   * @param epoch the epoch after which the parameters were taken, from 1
   * @param learningRate the learning rate of the steps that led to it (lr_c)
   * @param params the flattened parameters ({@link NetworkBytes#paramBytes})
   */
  public record Checkpoint(int epoch, double learningRate, byte[] params) {
    public Checkpoint {
      if (epoch < 1 || !(learningRate > 0) || Double.isInfinite(learningRate) || params == null) {
        throw new IllegalArgumentException("checkpoint needs epoch >= 1, a finite learning rate > 0 and parameters");
      }
    }
  }

  public TrainingCheckpoints {
    if (config == null || modelFingerprint == null || checkpoints == null || checkpoints.isEmpty()) {
      throw new IllegalArgumentException("checkpoints need a configuration, a fingerprint and at least one entry");
    }
    checkpoints = List.copyOf(checkpoints);
  }

  /** The network of checkpoint {@code c}, in {@code type}. */
  public MultiLayerNetwork network(int c, DataType type) {
    return NetworkBytes.rebuild(config, checkpoints.get(c).params(), type);
  }

  public int size() {
    return checkpoints.size();
  }

  /**
   * The epochs to keep out of {@code 1..last}: round(i * last / k) for i = 1..k, without repeats, so the last one is
   * always kept and fewer than k come back when there are fewer epochs.
   */
  public static int[] chosenEpochs(int last, int k) {
    if (last < 1 || k < 1) {
      throw new IllegalArgumentException("need last >= 1 and k >= 1, got " + last + ", " + k);
    }
    return java.util.stream.IntStream.rangeClosed(1, k).map(i -> (int) Math.max(1, Math.round((double) i * last / k)))
        .distinct().toArray();
  }

  /** Records every epoch's parameters during a training run (as an {@link EpochListener} that never stops it). */
  public static final class Recorder implements EpochListener {
    private final List<byte[]> perEpoch = new ArrayList<>();

    @Override
    public boolean afterEpoch(int epoch, MultiLayerNetwork net) {
      if (epoch != perEpoch.size() + 1) {
        throw new IllegalStateException("epoch " + epoch + " after " + perEpoch.size() + " recorded");
      }
      perEpoch.add(NetworkBytes.paramBytes(net.params()));
      return true;
    }

    /** The k checkpoints of {@link #chosenEpochs} up to {@code result}'s best epoch, all at {@code learningRate}. */
    public TrainingCheckpoints select(TrainResult result, int k, double learningRate) {
      List<Checkpoint> cs = new ArrayList<>();
      for (int e : chosenEpochs(result.bestEpoch(), k)) {
        cs.add(new Checkpoint(e, learningRate, perEpoch.get(e - 1)));
      }
      return new TrainingCheckpoints(NetworkBytes.configBytes(result.model()),
          ModelStore.fingerprint(result.model()), cs);
    }
  }

  public byte[] toBytes() {
    byte[] fp = modelFingerprint.getBytes(StandardCharsets.UTF_8);
    int size = config.length + fp.length + checkpoints.stream().mapToInt(c -> c.params().length + 16).sum() + 64;
    return CheckedBytes.write(MAGIC, size, out -> {
      out.writeInt(config.length);
      out.write(config);
      out.writeInt(fp.length);
      out.write(fp);
      out.writeInt(checkpoints.size());
      for (Checkpoint c : checkpoints) {
        out.writeInt(c.epoch());
        out.writeDouble(c.learningRate());
        out.writeInt(c.params().length);
        out.write(c.params());
      }
    });
  }

  /**
   * Parses {@link #toBytes} output.
   *
   * @param source names the input in error messages
   * @throws LetheInputException if the bytes are truncated, corrupt or not a checkpoints file
   */
  public static TrainingCheckpoints fromBytes(byte[] bytes, String source) {
    if (bytes == null || bytes.length < MAGIC.length + 4
        || !Arrays.equals(Arrays.copyOf(bytes, MAGIC.length), MAGIC)) {
      throw LetheInputException.of("%s: not a Lethe checkpoints file", source);
    }
    if (!CheckedBytes.crcMatches(bytes)) {
      throw LetheInputException.of("%s: corrupt checkpoints file (CRC32 mismatch)", source);
    }
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes, 0, bytes.length - 4))) {
      in.skipNBytes(MAGIC.length);
      byte[] config = readBlock(in, bytes.length);
      String fp = new String(readBlock(in, bytes.length), StandardCharsets.UTF_8);
      int n = in.readInt();
      if (n < 1 || n > bytes.length) {
        throw new IOException("bad checkpoint count " + n);
      }
      List<Checkpoint> cs = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        int epoch = in.readInt();
        double lr = in.readDouble();
        cs.add(new Checkpoint(epoch, lr, readBlock(in, bytes.length)));
      }
      return new TrainingCheckpoints(config, fp, cs);
    } catch (IOException | IllegalArgumentException e) {
      throw new LetheInputException(source + ": corrupt checkpoints file (" + e.getMessage() + ")", e);
    }
  }

  private static byte[] readBlock(DataInputStream in, int limit) throws IOException {
    int len = in.readInt();
    if (len < 0 || len > limit) {
      throw new IOException("bad block length " + len);
    }
    return in.readNBytes(len);
  }
}
