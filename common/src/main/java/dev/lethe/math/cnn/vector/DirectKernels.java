package dev.lethe.math.cnn.vector;

import org.slf4j.LoggerFactory;

/**
 * Whether {@link VectorConv}'s direct convolution kernels run in this JVM: it has the incubating module
 * {@code jdk.incubator.vector} (started with {@code --add-modules jdk.incubator.vector}, as {@code bin/lethe}, the
 * tests and the deploy scripts do) and the system property {@value #PROPERTY} is not {@code false}. Decided once, when
 * first asked; nothing here loads the module's classes unless it is present.
 */
public final class DirectKernels {
  /** The system property that turns the direct kernels off ({@code -Dlethe.vector-kernels=false}). */
  public static final String PROPERTY = "lethe.vector-kernels";
  private static final boolean AVAILABLE;
  private static final int CHANNEL_BLOCK;
  private static final int LANES;
  private static final String DESCRIPTION;

  static {
    boolean ok = false;
    int block = 1;
    int lanes = 1;
    String why;
    if ("false".equalsIgnoreCase(System.getProperty(PROPERTY, "true").trim())) {
      why = "-D" + PROPERTY + "=false";
    } else if (ModuleLayer.boot().findModule("jdk.incubator.vector").isEmpty()) {
      why = "jdk.incubator.vector is not in this JVM: start it with --add-modules jdk.incubator.vector";
    } else {
      why = null;
      try {
        block = VectorConv.channelBlock();
        lanes = VectorConv.lanes();
        ok = lanes >= 2;
        if (!ok) {
          why = "the Vector API has " + lanes + " double a vector here";
        }
      } catch (LinkageError e) {
        why = "the Vector API did not load: " + e;
      }
    }
    AVAILABLE = ok;
    CHANNEL_BLOCK = block;
    LANES = lanes;
    DESCRIPTION = ok ? "direct (Vector API, " + 64 * lanes + "-bit)" : "im2col + BLAS GEMM (" + why + ")";
    LoggerFactory.getLogger(DirectKernels.class).info("Convolutions in the forward pass: {}", DESCRIPTION);
  }

  private DirectKernels() {}

  /** Whether the direct kernels run here. */
  public static boolean available() {
    return AVAILABLE;
  }

  /**
   * The output channels a convolution needs a multiple of for the direct kernels (4 vectors of doubles: 32 with
   * 512-bit vectors, 16 with 256-bit); meaningful when {@link #available()}.
   */
  public static int channelBlock() {
    return CHANNEL_BLOCK;
  }

  /** Doubles per vector; meaningful when {@link #available()}. */
  public static int lanes() {
    return LANES;
  }

  /** {@code direct (Vector API, N-bit)} or {@code im2col + BLAS GEMM (...why)}, for logs and provenance. */
  public static String description() {
    return DESCRIPTION;
  }
}
