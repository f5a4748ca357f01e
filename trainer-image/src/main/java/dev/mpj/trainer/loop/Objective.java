package dev.mpj.trainer.loop;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.mpj.trainer.data.Dataset;

/**
 * The loss of the task, always computed in FP32: an FP16 output is promoted by multiplying with an
 * FP32 one of shape [1], which (unlike a cast) keeps the gradient. Softmax cross-entropy for
 * classes and next tokens, squared error for regression.
 */
final class Objective {
  private final Dataset.Kind kind;
  private final int classes;

  Objective(Dataset.Kind kind, int classes) {
    this.kind = kind;
    this.classes = classes;
  }

  /**
   * The loss of every sample, FP32, shape [B]; a sequence's loss is the mean over its positions.
   */
  NDArray perSampleLoss(NDArray output, NDArray target) {
    NDArray out = toFp32(output);
    return switch (kind) {
      case REGRESSION -> out.sub(target).square().reshape(-1);
      case CLASSIFICATION ->
          out.logSoftmax(-1).mul(target.oneHot(classes)).sum(new int[] {-1}).neg();
      case SEQUENCE ->
          out.logSoftmax(-1)
              .mul(target.oneHot(classes))
              .sum(new int[] {-1})
              .neg()
              .mean(new int[] {1});
    };
  }

  /** Correct predictions in the batch (every position of a sequence counts). */
  long correct(NDArray output, NDArray target) {
    return output.argMax(-1).eq(target).sum().toType(DataType.INT64, false).getLong();
  }

  /** Predictions made on {@code rows} samples: rows, or rows x positions. */
  long predictions(NDArray target) {
    return target.size();
  }

  static NDArray toFp32(NDArray x) {
    return x.getDataType() == DataType.FLOAT32 ? x : x.mul(x.getManager().ones(new Shape(1)));
  }
}
