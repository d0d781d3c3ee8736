package dev.lethe.spark.exec;

import dev.lethe.math.NetworkBytes;
import java.io.Serializable;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * A network in the form that may be broadcast: configuration JSON and parameter bytes ({@link NetworkBytes}).
 * Never broadcast an INDArray: Spark closes AutoCloseable broadcast values, and an INDArray is one.
 */
public record ModelBytes(byte[] config, byte[] params) implements Serializable {
  private static final long serialVersionUID = 1L;

  public static ModelBytes of(MultiLayerNetwork net) {
    return new ModelBytes(NetworkBytes.configBytes(net), NetworkBytes.paramBytes(net.params()));
  }

  /** A fresh network (one per task: networks are not thread-safe). */
  public MultiLayerNetwork rebuild() {
    return NetworkBytes.rebuild(config, params);
  }
}
