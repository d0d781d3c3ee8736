package dev.lethe.model;

import dev.lethe.LetheInputException;
import dev.lethe.math.NetworkBytes;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;

/** Model files: DL4J ModelSerializer zips (configuration + parameters; no updater state), and fingerprints. */
public final class ModelStore {
  private ModelStore() {}

  /**
   * Writes {@code net} (configuration and parameters) to {@code out}; the stream is not closed. A graph run as a
   * network ({@link GraphForm}) is written as the ComputationGraph it computes.
   */
  public static void write(MultiLayerNetwork net, OutputStream out) throws IOException {
    org.deeplearning4j.nn.api.Model model = GraphForm.isGraph(net) ? GraphForm.toGraph(net) : net;
    ModelSerializer.writeModel(model, new java.io.FilterOutputStream(out) {
      @Override
      public void close() throws IOException {
        flush();
      }
    }, false);
  }

  /**
   * Reads a model written by {@link #write} (a ComputationGraph zip as {@link ModelImport} reads it).
   *
   * @param source names the file in error messages
   * @throws LetheInputException if the bytes are not a DL4J multi-layer network or computation graph
   */
  public static MultiLayerNetwork read(InputStream in, String source) {
    try {
      byte[] bytes = in.readAllBytes();
      if (ModelImport.zipHoldsGraph(bytes)) {
        return ModelImport.read(bytes, source);
      }
      return ModelSerializer.restoreMultiLayerNetwork(new java.io.ByteArrayInputStream(bytes), false);
    } catch (LetheInputException e) {
      throw e;
    } catch (Exception | ExceptionInInitializerError e) {
      String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      throw new LetheInputException(source + ": not a readable model file (" + firstLine(msg) + ")", e);
    }
  }

  private static String firstLine(String s) {
    int nl = s.indexOf('\n');
    return nl > 0 ? s.substring(0, nl) : s;
  }

  /**
   * A short content hash of the configuration and parameters: equal models, equal fingerprints (see
   * {@link NetworkBytes#fingerprint}).
   */
  public static String fingerprint(MultiLayerNetwork net) {
    return NetworkBytes.fingerprint(net);
  }
}
