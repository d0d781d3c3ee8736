package dev.lethe.model;

import dev.lethe.LetheInputException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.modelimport.keras.KerasModelImport;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * A user's trained classifier ({@code model.source = file}) read into the network the methods run: a DL4J
 * {@code MultiLayerNetwork} or {@code ComputationGraph} zip ({@code ModelSerializer}), or a Keras {@code .h5} file
 * (Sequential or functional, through {@code deeplearning4j-modelimport}), told apart by their contents. A graph that
 * is a chain becomes its list of layers ({@link GraphChain}), any other graph a graph body and its head
 * ({@link GraphForm}); the result is the model's inference function ({@link InferenceForm}) with the file's
 * parameters, in the file's precision. Anything else is bad input naming the file and, where it applies, the
 * layer.
 */
public final class ModelImport {
  private ModelImport() {}

  /** The model in {@code bytes}; {@code source} names the file in messages. */
  public static MultiLayerNetwork read(byte[] bytes, String source) {
    List<LayerStack.Entry> layers;
    DataType type;
    if (isZip(bytes)) {
      if (zipHoldsGraph(bytes)) {
        ComputationGraph g = restore(() -> ModelSerializer.restoreComputationGraph(in(bytes), false), source);
        if (!GraphChain.isChain(g)) {
          return GraphForm.of(g, source, g.params().dataType());
        }
        layers = GraphChain.layers(g, source);
        type = g.params().dataType();
      } else {
        MultiLayerNetwork n = restore(() -> ModelSerializer.restoreMultiLayerNetwork(in(bytes), false), source);
        layers = LayerStack.of(n);
        type = n.params().dataType();
      }
    } else if (isHdf5(bytes)) {
      return keras(bytes, source);
    } else {
      throw LetheInputException.of("%s: neither a DL4J model zip nor a Keras .h5 file", source);
    }
    return LayerStack.build(InferenceForm.of(layers, source), type);
  }

  private static MultiLayerNetwork keras(byte[] bytes, String source) {
    Path tmp = null;
    try {
      tmp = Files.createTempFile("lethe-keras-", ".h5");
      Files.write(tmp, bytes);
      String path = tmp.toString();
      List<LayerStack.Entry> layers;
      DataType type;
      if (kerasSequential(bytes)) {
        MultiLayerNetwork n = restore(() -> KerasModelImport.importKerasSequentialModelAndWeights(path, false),
            source);
        layers = LayerStack.of(n);
        type = n.params().dataType();
      } else {
        ComputationGraph g = restore(() -> KerasModelImport.importKerasModelAndWeights(path, false), source);
        if (!GraphChain.isChain(g)) {
          return GraphForm.of(g, source, g.params().dataType());
        }
        layers = GraphChain.layers(g, source);
        type = g.params().dataType();
      }
      return LayerStack.build(InferenceForm.of(layers, source), type);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException ignored) {
          // a temporary file
        }
      }
    }
  }

  /** Whether the Keras file's model configuration is a Sequential model (its class name in the file's JSON). */
  private static boolean kerasSequential(byte[] bytes) {
    String text = new String(bytes, StandardCharsets.ISO_8859_1);
    return text.contains("\"class_name\": \"Sequential\"") || text.contains("\"class_name\":\"Sequential\"");
  }

  private interface Reader<T> {
    T read() throws Exception;
  }

  private static <T> T restore(Reader<T> r, String source) {
    try {
      return r.read();
    } catch (LetheInputException e) {
      throw e;
    } catch (Exception | ExceptionInInitializerError e) {
      String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      int nl = msg.indexOf('\n');
      throw new LetheInputException(source + ": cannot read the model (" + (nl > 0 ? msg.substring(0, nl) : msg)
          + ")", e);
    }
  }

  private static InputStream in(byte[] bytes) {
    return new ByteArrayInputStream(bytes);
  }

  private static boolean isZip(byte[] b) {
    return b.length >= 4 && b[0] == 'P' && b[1] == 'K' && b[2] == 3 && b[3] == 4;
  }

  private static boolean isHdf5(byte[] b) {
    return b.length >= 8 && (b[0] & 0xff) == 0x89 && b[1] == 'H' && b[2] == 'D' && b[3] == 'F';
  }

  /** Whether a ModelSerializer zip's configuration is a computation graph (it has vertices). */
  static boolean zipHoldsGraph(byte[] bytes) {
    try (ZipInputStream z = new ZipInputStream(in(bytes))) {
      for (ZipEntry e = z.getNextEntry(); e != null; e = z.getNextEntry()) {
        if (e.getName().equals("configuration.json")) {
          return new String(z.readAllBytes(), StandardCharsets.UTF_8).contains("\"vertices\"");
        }
      }
      return false;
    } catch (IOException e) {
      return false;
    }
  }
}
