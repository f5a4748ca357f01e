package dev.mpj.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * A scalar operand for an operation that autograd records, in memory that libtorch owns.
 *
 * <p>DJL's arithmetic with a Java number ({@code x.div(2f)}, {@code x.mul(scale)}) wraps the number
 * in an array made with {@code torch::from_blob} over a Java direct buffer, without a copy, and
 * closes that array as soon as the operation returns. Autograd keeps the operand of a {@code mul}
 * or {@code div} for the backward pass; once the garbage collector has freed the buffer, backward
 * reads freed memory (glibc writes its free-list pointer there), and the gradient is multiplied or
 * divided by garbage: inf, NaN or 0 depending on when the collector ran. This array is made by
 * {@code torch::full}: the graph's own reference keeps it alive, whenever its handle is closed.
 *
 * <p>Use it for every number that a recorded {@code mul}, {@code div} or {@code pow} takes; numbers
 * in additions and subtractions, and in arithmetic outside a gradient collector, are not kept by
 * autograd and are safe.
 */
public final class GraphScalar {
  private GraphScalar() {}

  /**
   * A 0-dimensional FP32 array holding {@code value}: like DJL's wrapped number, it does not
   * promote an FP16 operand to FP32.
   */
  public static NDArray of(NDManager manager, float value) {
    return manager.full(new Shape(), value, DataType.FLOAT32);
  }
}
