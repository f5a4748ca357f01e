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
 * Batch normalisation over [N, C, H, W] whose running statistics stay in FP32 whatever the model's
 * precision: they are updated from an FP32 copy of the batch, outside the graph, so FP16 rounding
 * never makes them drift. gamma and beta are trainable parameters in the model's precision.
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
    Shape perChannel = new Shape(1, channels, 1, 1);
    NDArray g = store.getValue(gamma, x.getDevice(), training).reshape(perChannel);
    NDArray b = store.getValue(beta, x.getDevice(), training).reshape(perChannel);
    NDArray mean;
    NDArray var;
    if (training) {
      mean = perChannelMean(x);
      NDArray centred = x.sub(mean);
      // In FP16 the square of an activation above 256 overflows. Dividing the centred values by
      // their
      // largest magnitude s (a constant, outside the graph) keeps the squares in range and leaves
      // the
      // result unchanged: xhat = c / sqrt(mean(c^2) + eps / s^2) with c = centred / s.
      float s = 1f;
      if (x.getDataType() == DataType.FLOAT16) {
        s = Math.max(1f, centred.abs().max().toType(DataType.FLOAT32, false).getFloat());
      }
      NDArray c = s == 1f ? centred : centred.div(GraphScalar.of(x.getManager(), s));
      var = perChannelMean(c.square());
      updateRunningStatistics(x);
      return new NDList(c.div(var.add(EPSILON / ((double) s * s)).sqrt()).mul(g).add(b));
    }
    NDArray rm = runningMean.getArray().reshape(perChannel).toType(x.getDataType(), false);
    NDArray scale =
        runningVar
            .getArray()
            .add(EPSILON)
            .sqrt()
            .pow(-1)
            .reshape(perChannel)
            .toType(x.getDataType(), false);
    return new NDList(x.sub(rm).mul(scale).mul(g).add(b));
  }

  private void updateRunningStatistics(NDArray x) {
    NDArray x32 = x.toType(DataType.FLOAT32, false);
    long count = x32.size() / channels;
    NDArray batchMean = perChannelMean(x32);
    NDArray unbiasedVar =
        perChannelMean(x32.sub(batchMean).square()).muli((double) count / Math.max(1, count - 1));
    runningMean.getArray().muli(1 - MOMENTUM).addi(batchMean.reshape(channels).muli(MOMENTUM));
    runningVar.getArray().muli(1 - MOMENTUM).addi(unbiasedVar.reshape(channels).muli(MOMENTUM));
  }

  /**
   * Mean over batch, height and width, kept as [1, C, 1, 1] (DJL's PyTorch mean takes one axis at a
   * time).
   */
  static NDArray perChannelMean(NDArray x) {
    return x.mean(new int[] {3}, true).mean(new int[] {2}, true).mean(new int[] {0}, true);
  }

  @Override
  public Shape[] getOutputShapes(Shape[] inputShapes) {
    return inputShapes;
  }
}
