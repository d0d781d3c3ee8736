package dev.lethe.spark.io;

import dev.lethe.LetheInputException;
import dev.lethe.config.LetheConfig;
import dev.lethe.math.LogLikelihood;
import dev.lethe.model.ModelImport;
import dev.lethe.model.ModelStore;
import dev.lethe.model.SequenceRows;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/** Models in the workdir (DL4J ModelSerializer zips), read and written through the Hadoop file system. */
public final class ModelFiles {
  private ModelFiles() {}

  /**
   * The model the stages after {@code train} work on, where it was read from, and the name its consumers' provenance
   * records it under (what {@code Provenance.recordedFingerprint} matches).
   */
  public record Base(MultiLayerNetwork net, Path path, String name) {}

  /** Whether {@code model.source} is {@code file}: the user's model at {@code model.path} instead of train's. */
  public static boolean fromFile(LetheConfig c) {
    return c.oneOf("model.source", "train", "file").equals("file");
  }

  /** Checks {@code model.source} and, for {@code file}, that {@code model.path} is given; for checks before work. */
  public static void validate(LetheConfig c) {
    if (fromFile(c) && c.getString("model.path").isBlank()) {
      throw LetheInputException.of("config key 'model.path': must name the model file when model.source = file");
    }
  }

  /**
   * {@code model/base.zip}, or with {@code model.source = file} the classifier at {@code model.path} (a DL4J zip or
   * a Keras .h5 file, see {@link ModelImport}), whose output size must be {@code data.num-classes}. Missing or
   * unreadable files, and models that are not such classifiers, are bad input naming the file.
   */
  public static Base base(Workdir workdir, LetheConfig c) {
    validate(c);
    if (!fromFile(c)) {
      return new Base(load(workdir, WorkdirLayout.BASE_MODEL, "train"), workdir.path(WorkdirLayout.BASE_MODEL),
          WorkdirLayout.BASE_MODEL);
    }
    String location = c.getString("model.path").trim();
    MultiLayerNetwork net = userModel(c, workdir.fileSystem().getConf());
    int classes = c.positiveInt("data.num-classes");
    if (LogLikelihood.numClasses(net) != classes) {
      throw LetheInputException.of("%s: the model has %d outputs, but data.num-classes is %d", location,
          LogLikelihood.numClasses(net), classes);
    }
    Path p = new Path(location);
    try {
      p = p.getFileSystem(workdir.fileSystem().getConf()).makeQualified(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Base(net, p, p.toString());
  }

  /** The classifier at {@code model.path} (see {@link ModelImport}); a missing or unreadable file is bad input. */
  public static MultiLayerNetwork userModel(LetheConfig c, org.apache.hadoop.conf.Configuration hadoopConf) {
    validate(c);
    String location = c.getString("model.path").trim();
    int sequenceLength = c.nonNegativeInt("data.sequence-length");
    return ModelImport.read(Workdir.readFile(location, hadoopConf, "model.path"), location, sequenceLength);
  }

  /** Loads a model; a missing, empty or corrupt file is bad input naming the path and its producer stage. */
  public static MultiLayerNetwork load(Workdir workdir, String rel, String producer) {
    workdir.requireInput(rel, producer);
    byte[] bytes = workdir.readBytes(rel);
    return ModelStore.read(new ByteArrayInputStream(bytes), workdir.path(rel).toString());
  }

  /**
   * The length of the flat feature vector the model takes (c x h x w for CNNs fed flat images, features x time steps
   * for recurrent sequence classifiers).
   */
  public static int numInputs(MultiLayerNetwork net) {
    var conf = net.getLayerWiseConfigurations();
    if (conf.getInputPreProcess(0) instanceof SequenceRows s) {
      return (int) s.rowLength();
    }
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
