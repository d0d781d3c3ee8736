package dev.lethe.math.cnn;

import java.util.List;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A fixed direction q in parameter space, split by op, for passes that need each example's gradient only as its dot
 * product with q (TracIn, linear influence). The backward pass then never forms a per-example gradient: for a
 * convolution, {@code g_i . q = sum over image i's output positions of dz . (col q_W) + dz summed . q_b}, where
 * {@code col q_W} is one GEMM of the group's im2col matrix with q's kernel, the shape of the forward pass's; for a
 * dense layer, {@code g_i . q = dz_i . (a_i q_W) + dz_i . q_b}.
 */
final class Projection {
  /** Per op: q's entries for the op's parameters (W in DL4J's c order, then b), or null for an op without any. */
  private final double[][] wb;
  /** Per op: for a convolution, q's kernel as the GEMM's f-order [kk, c_out] matrix in the op's precision. */
  private final INDArray[] kernels;

  private Projection(double[][] wb, INDArray[] kernels) {
    this.wb = wb;
    this.kernels = kernels;
  }

  /** {@code direction}, in the flattened parameter order of {@code net}, split over the plan's {@code ops}. */
  static Projection of(MultiLayerNetwork net, List<LayerOp> ops, double[] direction) {
    if (direction.length != net.numParams()) {
      throw new IllegalArgumentException("the direction has " + direction.length + " entries for a network of "
          + net.numParams() + " parameters");
    }
    double[][] wb = new double[ops.size()][];
    INDArray[] kernels = new INDArray[ops.size()];
    for (int i = 0; i < ops.size(); i++) {
      LayerOp op = ops.get(i);
      if (op.layer() < 0) {
        continue;
      }
      wb[i] = ParameterLayout.layerParams(net, op.layer(), direction).orElseThrow();
      ConvOp conv = op instanceof ConvOp c ? c : op instanceof ConvPoolOp cp ? cp.conv() : null;
      if (conv != null) {
        kernels[i] = conv.kernelOf(wb[i]);
      }
    }
    return new Projection(wb, kernels);
  }

  /** q's entries for op {@code op}'s parameters (W, then b). */
  double[] direction(int op) {
    return wb[op];
  }

  /** q's kernel for convolution op {@code op}, shaped and typed as the op's own kernel. */
  INDArray kernel(int op) {
    return kernels[op];
  }
}
