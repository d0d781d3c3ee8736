package dev.lethe.math;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A network as plain bytes: its configuration (JSON, UTF-8) and its flattened parameters ({@link Nd4j#toByteArray}).
 * This is the only form in which networks travel to Spark executors: an {@code INDArray} must never be broadcast
 * (it is {@code AutoCloseable}, and Spark closes broadcast values, deallocating the driver's live parameters).
 */
public final class NetworkBytes {
  private NetworkBytes() {}

  /** The network configuration as UTF-8 JSON. */
  public static byte[] configBytes(MultiLayerNetwork net) {
    return net.getLayerWiseConfigurations().toJson().getBytes(StandardCharsets.UTF_8);
  }

  /** A parameter vector (or any array) in ND4J's binary format, with its data type and shape. */
  public static byte[] paramBytes(INDArray params) {
    try {
      return Nd4j.toByteArray(params);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot serialise parameters", e);
    }
  }

  /** The inverse of {@link #paramBytes}: a fresh array owned by the caller. */
  public static INDArray params(byte[] bytes) {
    return Nd4j.fromByteArray(bytes);
  }

  /**
   * A new, initialised network with the given configuration and parameters (a copy: the bytes are not shared).
   * It has no listeners and a fresh updater state.
   */
  public static MultiLayerNetwork rebuild(byte[] config, byte[] params) {
    MultiLayerConfiguration conf = MultiLayerConfiguration.fromJson(new String(config, StandardCharsets.UTF_8));
    MultiLayerNetwork net = new MultiLayerNetwork(conf);
    net.init(params(params), true);
    return net;
  }

  /**
   * As {@link #rebuild(byte[], byte[])}, converted to {@code type} ({@link MultiLayerNetwork#convertDataType}).
   * Scoring rebuilds float32 models in {@link DataType#DOUBLE}: float-to-double is exact, so the double network
   * computes the same function as the trained one, but its arithmetic no longer depends (at the 1e-7 level) on where
   * a row sits in a batch, and differences of log-likelihoods between two nearby parameter sets (EWC-influence) do
   * not drown in float32 cancellation.
   */
  public static MultiLayerNetwork rebuild(byte[] config, byte[] params, DataType type) {
    MultiLayerNetwork net = rebuild(config, params);
    return net.params().dataType() == type ? net : net.convertDataType(type);
  }

  /**
   * Identifies a trained model: the first 16 hex characters of SHA-256(config JSON || parameter bytes). Artefacts
   * computed from a model (the Fisher diagonal) record it, so that they are not used with another model. The
   * training counters stored in the configuration (iteration and epoch count) are zeroed first: they do not
   * change the function the model computes.
   */
  public static String fingerprint(MultiLayerNetwork net) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      MultiLayerConfiguration conf = net.getLayerWiseConfigurations().clone();
      conf.setIterationCount(0);
      conf.setEpochCount(0);
      sha.update(conf.toJson().getBytes(StandardCharsets.UTF_8));
      sha.update(paramBytes(net.params()));
      return HexFormat.of().formatHex(sha.digest()).substring(0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }
}
