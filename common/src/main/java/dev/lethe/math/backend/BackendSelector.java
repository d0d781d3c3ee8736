package dev.lethe.math.backend;

import dev.lethe.math.cnn.FastCnn;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one place that decides which backend computes a model. The fast path ({@link FastCnn}) is chosen only when
 * the setting is {@link ComputeBackend#AUTO}, the ND4J backend is the CPU one (the fast path writes ND4J buffers
 * through host views and multiplies them with {@code Nd4j.gemm}, which on a device backend could read stale device
 * memory), and the network is one it supports for the purpose; DL4J's own passes compute everything else.
 *
 * <p>The process's selector ({@link #current()}) takes its setting from {@link #configure} (stages call it with
 * {@code compute.backend} on the driver and at the start of every Spark task) and the CPU check from ND4J. Tests build
 * their own with a simulated backend check.
 */
public final class BackendSelector {
  private static final Logger LOG = LoggerFactory.getLogger(BackendSelector.class);
  private static volatile ComputeBackend setting = ComputeBackend.AUTO;
  private static final BooleanSupplier ND4J_IS_CPU = () -> Nd4j.getEnvironment().isCPU();

  private final ComputeBackend mode;
  private final BooleanSupplier cpuBackend;

  /**
   * @param mode the {@code compute.backend} setting
   * @param cpuBackend whether the ND4J backend computes on the CPU, on host memory
   */
  public BackendSelector(ComputeBackend mode, BooleanSupplier cpuBackend) {
    this.mode = mode;
    this.cpuBackend = cpuBackend;
  }

  /** The process's selector: the configured setting and the loaded ND4J backend. */
  public static BackendSelector current() {
    return new BackendSelector(setting, ND4J_IS_CPU);
  }

  /** Sets the process's {@code compute.backend} (idempotent; logged when it changes). */
  public static void configure(ComputeBackend mode) {
    if (setting != mode) {
      setting = mode;
      LOG.info("compute.backend = {}", mode.configName());
    }
  }

  /** The process's {@code compute.backend} setting. */
  public static ComputeBackend setting() {
    return setting;
  }

  /** The backend for {@code net} and {@code purpose}. */
  public ModelBackend select(MultiLayerNetwork net, Purpose purpose) {
    return fastCnn(net, purpose).<ModelBackend>map(f -> new FastCnnBackend(net, f))
        .orElseGet(() -> new Dl4jBackend(net));
  }

  /** Whether the fast path may run at all here: the setting allows it and ND4J computes on host memory. */
  public boolean fastPathAllowed() {
    return mode == ComputeBackend.AUTO && cpuBackend.getAsBoolean();
  }

  private Optional<FastCnn> fastCnn(MultiLayerNetwork net, Purpose purpose) {
    if (!fastPathAllowed()) {
      return Optional.empty();
    }
    return switch (purpose) {
      case SCORES -> FastCnn.of(net);
      case DOUBLE -> FastCnn.forGradients(net);
      case OPTIMISER -> FastCnn.forFloatGradients(net).or(() -> FastCnn.forGradients(net));
      case TRAINING -> FastCnn.canTrain(net)
          ? FastCnn.forFloatGradients(net).or(() -> FastCnn.forGradients(net)) : Optional.empty();
    };
  }
}
