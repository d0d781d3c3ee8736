package dev.lethe.model;

import dev.lethe.LetheInputException;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.conf.RNNFormat;
import org.deeplearning4j.nn.conf.layers.BaseRecurrentLayer;
import org.deeplearning4j.nn.conf.layers.GravesLSTM;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.recurrent.Bidirectional;
import org.deeplearning4j.nn.conf.layers.recurrent.LastTimeStep;
import org.deeplearning4j.nn.conf.layers.recurrent.SimpleRnn;

/**
 * A recurrent sequence classifier in the form the methods run: recurrent layers ({@code LSTM}, {@code GravesLSTM},
 * {@code SimpleRnn}, or {@code Bidirectional} wrapping one), the last of them wrapped in {@code LastTimeStep} (as a
 * Keras {@code LSTM(return_sequences=False)} imports), then feed-forward layers ending in the softmax output: one
 * class distribution per sequence. The first layer gets the {@link SequenceRows} preprocessor, so a flat row of
 * {@code F x T} values is read as a sequence of T time steps of F features, in the layout (NCW or NWC) of the
 * recurrent layers. T is {@code data.sequence-length} or the
 * length the model file records; when both are given they must agree. A per-time-step output (a recurrent layer not
 * followed by {@code LastTimeStep}, {@code RnnOutputLayer}, {@code RnnLossLayer}, {@code TimeDistributed}), a
 * recurrent layer after a feed-forward one, or a recurrent model of unknown sequence length is bad input naming the
 * layer.
 */
final class SequenceForm {
  /** The configuration key that gives the sequence length. */
  static final String KEY = "data.sequence-length";

  private SequenceForm() {}

  /** Whether {@code l} is one of the recurrent layers a sequence classifier may start with. */
  static boolean isRecurrent(Layer l) {
    Layer inner = l instanceof LastTimeStep w ? w.getUnderlying() : l;
    inner = inner instanceof Bidirectional b ? b.getFwd() : inner;
    return inner instanceof LSTM || inner instanceof GravesLSTM || inner instanceof SimpleRnn;
  }

  /**
   * {@code in} with the sequence preprocessor on its first layer when it starts with a recurrent layer; otherwise
   * {@code in} unchanged.
   *
   * @param keyLength {@code data.sequence-length} (0: not given)
   * @param fileLength the sequence length the model file records (0: none)
   */
  static List<LayerStack.Entry> of(List<LayerStack.Entry> in, String source, int keyLength, int fileLength) {
    if (in.isEmpty() || !isRecurrent(in.get(0).layer())) {
      return in;
    }
    int last = -1;
    for (int i = 0; i < in.size(); i++) {
      Layer l = in.get(i).layer();
      if (!isRecurrent(l)) {
        break;
      }
      if (i > 0 && in.get(i).pre() != null) {
        throw LetheInputException.of("%s: %s has an input preprocessor between recurrent layers", source,
            in.get(i).describe(i));
      }
      if (format(l) != format(in.get(0).layer())) {
        throw LetheInputException.of("%s: %s reads sequences in layout %s, the first recurrent layer in %s", source,
            in.get(i).describe(i), format(l), format(in.get(0).layer()));
      }
      last = i;
      if (l instanceof LastTimeStep) {
        break;
      }
    }
    if (!(in.get(last).layer() instanceof LastTimeStep)) {
      throw LetheInputException.of("%s: %s%s outputs one value per time step; Lethe takes sequence classifiers"
          + " whose last recurrent layer keeps only the last time step (LastTimeStep, Keras"
          + " return_sequences=False)", source, in.get(last).describe(last), wrapped(in.get(last).layer()));
    }
    for (int i = last + 1; i < in.size(); i++) {
      InferenceForm.requireFeedForward(in.get(i).layer(), source, in.get(i).describe(i));
    }
    LayerStack.Entry first = in.get(0);
    int length = length(first, source, keyLength, fileLength);
    long features = nIn(first.layer());
    List<LayerStack.Entry> out = new ArrayList<>(in);
    out.set(0, new LayerStack.Entry(first.layer(), new SequenceRows(features, length, format(first.layer())),
        first.params()));
    return out;
  }

  private static int length(LayerStack.Entry first, String source, int keyLength, int fileLength) {
    int recorded = fileLength;
    if (first.pre() instanceof SequenceRows s) {
      recorded = (int) s.getTimeSteps();
    } else if (first.pre() != null) {
      throw LetheInputException.of("%s: %s has an input preprocessor (%s); Lethe reads the rows of a recurrent"
          + " model itself", source, first.describe(0), first.pre().getClass().getSimpleName());
    }
    if (recorded > 0 && keyLength > 0 && recorded != keyLength) {
      throw LetheInputException.of("config key '%s': %d time steps, but the model %s records %d", KEY, keyLength,
          source, recorded);
    }
    int length = recorded > 0 ? recorded : keyLength;
    if (length <= 0) {
      throw LetheInputException.of("%s: %s%s is a recurrent layer and the model records no sequence length: set"
          + " %s to the number of time steps in a row", source, first.describe(0), wrapped(first.layer()), KEY);
    }
    return length;
  }

  private static String wrapped(Layer l) {
    return l instanceof org.deeplearning4j.nn.conf.layers.wrapper.BaseWrapperLayer w
        ? " wrapping " + w.getUnderlying().getClass().getSimpleName() : "";
  }

  private static Layer core(Layer l) {
    Layer inner = l instanceof LastTimeStep w ? w.getUnderlying() : l;
    return inner instanceof Bidirectional b ? b.getFwd() : inner;
  }

  private static RNNFormat format(Layer l) {
    RNNFormat f = declaredFormat(l);
    return f == null ? RNNFormat.NCW : f;
  }

  private static RNNFormat declaredFormat(Layer l) {
    Layer inner = l instanceof LastTimeStep w ? w.getUnderlying() : l;
    if (inner instanceof Bidirectional b) {
      return b.getRNNDataFormat();
    }
    return ((BaseRecurrentLayer) inner).getRnnDataFormat();
  }

  private static long nIn(Layer l) {
    return ((BaseRecurrentLayer) core(l)).getNIn();
  }

  /** Clears dropout on {@code l} and the recurrent layers it wraps (dropout is the identity at inference). */
  static void clearDropout(Layer l) {
    l.setIDropout(null);
    Layer inner = l instanceof LastTimeStep w ? w.getUnderlying() : l;
    inner.setIDropout(null);
    if (inner instanceof Bidirectional b) {
      b.getFwd().setIDropout(null);
      b.getBwd().setIDropout(null);
    }
  }
}
