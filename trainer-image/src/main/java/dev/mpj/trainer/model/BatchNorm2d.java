package dev.mpj.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.PairList;

/**
 * Batch normalisation over [N, C, H, W], libtorch's fused kernel ({@code batch_norm} through DJL's
 * {@code NDArrayEx.batchNorm}): autograd keeps the input and two per-channel vectors, nothing the
 * size of the output. The running statistics stay in FP32 whatever the model's precision (the
 * kernel updates them in place, accumulating in FP32 also for an FP16 input, so FP16 rounding never
 * makes them drift); gamma and beta are trainable parameters in the model's precision.
 */
public final class BatchNorm2d extends AbstractBlock {
  private static final float EPSILON = 1e-5f;
  private static final float MOMENTUM = 0.1f;

  private final int channels;
  private final Parameter gamma;
  private final Parameter beta;
  private final Parameter runningMean;
  private final Parameter runningVar;

  public BatchNorm2d(int channels) {
    this.channels = channels;
    Shape shape = new Shape(channels);
    gamma =
        addParameter(
            Parameter.builder()
                .setName("gamma")
                .setType(Parameter.Type.GAMMA)
                .optShape(shape)
                .build());
    beta =
        addParameter(
            Parameter.builder()
                .setName("beta")
                .setType(Parameter.Type.BETA)
                .optShape(shape)
                .build());
    runningMean =
        addParameter(
            Parameter.builder()
                .setName("runningMean")
                .setType(Parameter.Type.RUNNING_MEAN)
                .optShape(shape)
                .optRequiresGrad(false)
                .build());
    runningVar =
        addParameter(
            Parameter.builder()
                .setName("runningVar")
                .setType(Parameter.Type.RUNNING_VAR)
                .optShape(shape)
                .optRequiresGrad(false)
                .build());
  }

  @Override
  public void initialize(NDManager manager, DataType dataType, Shape... inputShapes) {
    // Initialised first in FP32, so the block-wide initialisation in the model's type skips them.
    runningMean.setInitializer(Initializer.ZEROS);
    runningVar.setInitializer(Initializer.ONES);
    runningMean.initialize(manager, DataType.FLOAT32);
    runningVar.initialize(manager, DataType.FLOAT32);
    super.initialize(manager, dataType, inputShapes);
  }

  @Override
  protected NDList forwardInternal(
      ParameterStore store, NDList inputs, boolean training, PairList<String, Object> params) {
    NDArray x = inputs.head();
    NDArray g = store.getValue(gamma, x.getDevice(), training);
    NDArray b = store.getValue(beta, x.getDevice(), training);
    // libtorch's batch norm takes an FP16 input only with FP32 gamma, beta and statistics (it
    // accumulates in FP32, so squares of large FP16 activations cannot overflow). Multiplying by an
    // FP32 one promotes gamma and beta with their gradient (a cast would drop it).
    boolean promote = g.getDataType() != DataType.FLOAT32;
    NDArray g32 = promote ? promoteToFp32(g) : g;
    NDArray b32 = promote ? promoteToFp32(b) : b;
    // DJL's momentum is the weight of the old statistic: libtorch gets 1 - (1 - MOMENTUM).
    NDArray y =
        x.getNDArrayInternal()
            .batchNorm(
                x,
                runningMean.getArray(),
                runningVar.getArray(),
                g32,
                b32,
                -1,
                1 - MOMENTUM,
                EPSILON,
                training)
            .head();
    if (promote) {
      Intermediates.release(g32, b32);
    }
    return new NDList(y);
  }

  private static NDArray promoteToFp32(NDArray x) {
    try (NDArray one = x.getManager().ones(new Shape(1))) {
      return x.mul(one);
    }
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return inputShapes;
  }
}
