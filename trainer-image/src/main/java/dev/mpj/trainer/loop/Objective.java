package dev.mpj.trainer.loop;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.mpj.trainer.data.Dataset;
import dev.mpj.trainer.model.Intermediates;

/**
 * The loss of the task, always computed in FP32: an FP16 output is promoted by multiplying with an
 * FP32 one of shape [1], which (unlike a cast) keeps the gradient. Softmax cross-entropy for
 * classes and next tokens, squared error for regression.
 */
final class Objective {
  private final Dataset.Kind kind;

  Objective(Dataset.Kind kind) {
    this.kind = kind;
  }

  /**
   * The loss of every sample, FP32, shape [B]; a sequence's loss is the mean over its positions.
   * Cross-entropy picks each target's log-probability by its class index (libtorch's gather):
   * autograd keeps the FP32 log-softmax and the indices, nothing else of the outputs' size (a
   * one-hot target and its product with the log-softmax are never made). The FP32 copy of FP16
   * outputs goes once the log-softmax has been taken.
   */
  NDArray perSampleLoss(NDArray output, NDArray target) {
    NDArray out = toFp32(output);
    NDArray loss =
        switch (kind) {
          case REGRESSION -> {
            NDArray difference = out.sub(target);
            NDArray squared = difference.square();
            Intermediates.release(difference);
            NDArray perSample = squared.reshape(-1);
            Intermediates.release(squared);
            yield perSample;
          }
          case CLASSIFICATION -> {
            NDArray logProbabilities = out.logSoftmax(-1);
            NDArray picked = pick(logProbabilities, target);
            NDArray perSample = picked.reshape(-1).neg();
            Intermediates.release(logProbabilities, picked);
            yield perSample;
          }
          case SEQUENCE -> {
            NDArray logProbabilities = out.logSoftmax(-1);
            NDArray picked = pick(logProbabilities, target);
            NDArray perPosition = picked.squeeze(-1).neg();
            NDArray perSample = perPosition.mean(new int[] {1});
            Intermediates.release(logProbabilities, picked, perPosition);
            yield perSample;
          }
        };
    if (out != output) {
      Intermediates.release(out);
    }
    return loss;
  }

  /**
   * The entries of {@code logProbabilities} at the target classes, on the last axis (keeping it, of
   * size 1). Bit for bit the sum of log-probabilities times a one-hot target, which adds exact
   * zeros.
   */
  private static NDArray pick(NDArray logProbabilities, NDArray target) {
    int axis = logProbabilities.getShape().dimension() - 1;
    try (NDArray index = target.expandDims(-1)) {
      return logProbabilities.gather(index, axis);
    }
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
