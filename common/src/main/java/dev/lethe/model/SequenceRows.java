package dev.lethe.model;

import org.deeplearning4j.nn.api.MaskState;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The one place where a flat feature row becomes a sequence: the input preprocessor an imported recurrent classifier
 * gets before its first layer, so every pass over the network (scores, per-example gradients, optimiser steps,
 * predictions) reads Lethe's rows unchanged. A row of {@code features * timeSteps} values is read time-major: value
 * {@code t * features + f} is feature f at time step t (the order of a {@code [T, F]} array flattened row by row, as
 * {@code x.reshape(n, -1)} flattens Keras's {@code (n, T, F)} input), and becomes the layout the first recurrent
 * layer reads: DL4J's default {@code [examples, features, time steps]} (NCW), or {@code [examples, time steps,
 * features]} (NWC, as Keras layers import). The backward pass returns the input gradient in the row's order.
 */
public final class SequenceRows implements InputPreProcessor {
  private static final long serialVersionUID = 1L;
  private long features;
  private long timeSteps;
  private RNNFormat format = RNNFormat.NCW;

  /** For deserialisation. */
  public SequenceRows() {}

  /** Rows read into DL4J's default layout, NCW. */
  public SequenceRows(long features, long timeSteps) {
    this(features, timeSteps, RNNFormat.NCW);
  }

  /** Rows read into the layout {@code format} of the first recurrent layer. */
  public SequenceRows(long features, long timeSteps, RNNFormat format) {
    if (features < 1 || timeSteps < 1) {
      throw new IllegalArgumentException("features and time steps must be >= 1, got " + features + " x "
          + timeSteps);
    }
    this.features = features;
    this.timeSteps = timeSteps;
    this.format = format;
  }

  public RNNFormat getFormat() {
    return format;
  }

  public void setFormat(RNNFormat format) {
    this.format = format;
  }

  public long getFeatures() {
    return features;
  }

  public void setFeatures(long features) {
    this.features = features;
  }

  public long getTimeSteps() {
    return timeSteps;
  }

  public void setTimeSteps(long timeSteps) {
    this.timeSteps = timeSteps;
  }

  /** The length of the flat row: features x time steps. */
  public long rowLength() {
    return features * timeSteps;
  }

  @Override
  public INDArray preProcess(INDArray input, int miniBatchSize, LayerWorkspaceMgr workspaceMgr) {
    if (input.rank() != 2 || input.size(1) != rowLength()) {
      throw new IllegalArgumentException("expected rows of " + rowLength() + " values (" + features
          + " features x " + timeSteps + " time steps), got shape " + java.util.Arrays.toString(input.shape()));
    }
    INDArray nwc = input.dup('c').reshape('c', input.size(0), timeSteps, features);
    INDArray out = format == RNNFormat.NWC ? nwc : nwc.permute(0, 2, 1).dup('c');
    return workspaceMgr.leverageTo(ArrayType.ACTIVATIONS, out);
  }

  @Override
  public INDArray backprop(INDArray output, int miniBatchSize, LayerWorkspaceMgr workspaceMgr) {
    INDArray nwc = format == RNNFormat.NWC ? output : output.permute(0, 2, 1);
    INDArray rows = nwc.dup('c').reshape('c', output.size(0), rowLength());
    return workspaceMgr.leverageTo(ArrayType.ACTIVATION_GRAD, rows);
  }

  @Override
  public SequenceRows clone() {
    return new SequenceRows(features, timeSteps, format);
  }

  @Override
  public InputType getOutputType(InputType inputType) {
    return InputType.recurrent(features, timeSteps, format);
  }

  @Override
  public Pair<INDArray, MaskState> feedForwardMaskArray(INDArray maskArray, MaskState currentMaskState,
      int minibatchSize) {
    // every sequence has all its time steps
    return new Pair<>(maskArray, currentMaskState);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SequenceRows s && s.features == features && s.timeSteps == timeSteps
        && s.format == format;
  }

  @Override
  public int hashCode() {
    return (Long.hashCode(features) * 31 + Long.hashCode(timeSteps)) * 31 + format.hashCode();
  }

  @Override
  public String toString() {
    return "SequenceRows(features=" + features + ", timeSteps=" + timeSteps + ", " + format + ")";
  }
}
