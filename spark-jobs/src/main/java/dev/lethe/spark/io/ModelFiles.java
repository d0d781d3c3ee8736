package dev.lethe.spark.io;

import dev.lethe.model.ModelStore;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/** Models in the workdir (DL4J ModelSerializer zips), read and written through the Hadoop file system. */
public final class ModelFiles {
  public static final String BASE = "model/base.zip";
  public static final String EWC_UPDATED = "model/ewc-updated.zip";
  /** The training checkpoints of TracIn ({@link dev.lethe.model.TrainingCheckpoints}). */
  public static final String CHECKPOINTS = "model/checkpoints.bin";

  private ModelFiles() {}

  /** Loads a model; a missing, empty or corrupt file is bad input naming the path and its producer stage. */
  public static MultiLayerNetwork load(Workdir workdir, String rel, String producer) {
    workdir.requireInput(rel, producer);
    byte[] bytes = workdir.readBytes(rel);
    return ModelStore.read(new ByteArrayInputStream(bytes), workdir.path(rel).toString());
  }

  /** The length of the flat feature vector the model takes (c x h x w for CNNs fed flat images). */
  public static int numInputs(MultiLayerNetwork net) {
    var conf = net.getLayerWiseConfigurations();
    if (conf.getInputPreProcess(0) instanceof FeedForwardToCnnPreProcessor p) {
      return (int) (p.getInputHeight() * p.getInputWidth() * p.getNumChannels());
    }
    if (conf.getConf(0).getLayer() instanceof FeedForwardLayer ff) {
      return (int) ff.getNIn();
    }
    throw new IllegalStateException("cannot tell the input size of " + conf.getConf(0).getLayer());
  }

  public static byte[] toBytes(MultiLayerNetwork net) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(1 << 20);
    try {
      ModelStore.write(net, out);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
