package dev.mpj.trainer.loop;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import dev.mpj.api.LossChunks;
import dev.mpj.trainer.data.Dataset;
import dev.mpj.trainer.model.Intermediates;

/**
 * The loss of the task, always computed in FP32. Softmax cross-entropy for classes and next tokens,
 * squared error for regression.
 */
final class Objective {
  private final Dataset.Kind kind;

  Objective(Dataset.Kind kind) {
    this.kind = kind;
  }

  /**
   * The loss of every sample, FP32, shape [B]; a sequence's loss is the mean over its positions.
   *
   * <p>Cross-entropy: libtorch's log-softmax with an FP32 result type (one native call that
   * converts FP16 outputs and takes the log-softmax; its backward converts the gradient straight
   * back to FP16), then each target's log-probability picked by class index (libtorch's gather).
   * Autograd keeps the FP32 log-softmax and the indices, nothing else of the outputs' size: no
   * one-hot target, no FP32 copy of the outputs. DJL reaches neither libtorch's {@code nll_loss}
   * nor {@code cross_entropy}; these are the operations they run. The sign is taken on the
   * per-sample values, after the mean over positions (negation is exact, so the values are those of
   * negating first). A large output is taken in {@link LossChunks} pieces of rows, so backward
   * holds the log-softmax's FP32 gradients for one piece at a time; the values and gradients are
   * the same bit for bit (every row's arithmetic is the same, whole or in pieces).
   */
  NDArray perSampleLoss(NDArray output, NDArray target) {
    return switch (kind) {
      case REGRESSION -> squaredError(output, target);
      case CLASSIFICATION, SEQUENCE -> crossEntropy(output, target);
    };
  }

  private static NDArray squaredError(NDArray output, NDArray target) {
    NDArray out = toFp32(output);
    NDArray difference = out.sub(target);
    NDArray squared = difference.square();
    Intermediates.release(difference);
    NDArray perSample = squared.reshape(-1);
    Intermediates.release(squared);
    if (out != output) {
      Intermediates.release(out);
    }
    return perSample;
  }

  private NDArray crossEntropy(NDArray output, NDArray target) {
    Shape shape = output.getShape();
    int classAxis = shape.dimension() - 1;
    long samples = shape.get(0);
    long classes = shape.get(classAxis);
    long rows = shape.size() / classes;
    NDArray picked;
    if (LossChunks.chunks(rows, shape.size() / samples) == 1) {
      try (NDArray index = target.expandDims(-1)) {
        picked = pickLogProbabilities(output, index, classAxis);
      }
    } else {
      long rowsPerPiece = LossChunks.rowsPerChunk(rows, shape.size() / samples);
      picked = pickInPieces(output, target, rows, classes, rowsPerPiece);
    }
    NDArray perSample;
    if (kind == Dataset.Kind.SEQUENCE) {
      // [B, T, 1] or [B*T, 1] as [B, T]: the mean over each sequence's positions.
      NDArray positions = picked.reshape(samples, -1);
      Intermediates.release(picked);
      NDArray mean = positions.mean(new int[] {1});
      Intermediates.release(positions);
      perSample = mean.neg();
      Intermediates.release(mean);
    } else {
      NDArray flat = picked.reshape(-1);
      Intermediates.release(picked);
      perSample = flat.neg();
      Intermediates.release(flat);
    }
    return perSample;
  }

  /**
   * The FP32 log-probabilities of {@code output} at {@code index} (with a trailing axis of 1) on
   * {@code axis}.
   */
  private static NDArray pickLogProbabilities(NDArray output, NDArray index, int axis) {
    NDArray logProbabilities = JniUtils.logSoftmax((PtNDArray) output, axis, DataType.FLOAT32);
    NDArray picked = logProbabilities.gather(index, axis);
    Intermediates.release(logProbabilities);
    return picked;
  }

  /**
   * The picked log-probabilities of {@code rows} rows of {@code classes} outputs, taken in pieces
   * of {@code rowsPerPiece} rows: shape [rows, 1]. The pieces are views of the outputs; the
   * concatenation's backward joins the pieces' gradients into one gradient of the outputs.
   */
  private static NDArray pickInPieces(
      NDArray output, NDArray target, long rows, long classes, long rowsPerPiece) {
    NDArray flatOutput = output.reshape(rows, classes);
    NDArray flatTarget = target.reshape(rows, 1);
    NDList outputPieces = JniUtils.split((PtNDArray) flatOutput, rowsPerPiece, 0);
    NDList targetPieces = JniUtils.split((PtNDArray) flatTarget, rowsPerPiece, 0);
    Intermediates.release(flatOutput, flatTarget);
    NDList picked = new NDList(outputPieces.size());
    for (int i = 0; i < outputPieces.size(); i++) {
      picked.add(pickLogProbabilities(outputPieces.get(i), targetPieces.get(i), 1));
      Intermediates.release(outputPieces.get(i), targetPieces.get(i));
    }
    NDArray joined = NDArrays.concat(picked, 0);
    Intermediates.release(picked.toArray(new NDArray[0]));
    return joined;
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
