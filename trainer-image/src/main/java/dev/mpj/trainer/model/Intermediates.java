package dev.mpj.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import java.util.function.Supplier;

/**
 * Frees a forward pass's intermediate arrays as soon as the next operation has consumed them.
 *
 * <p>libtorch tensors are reference counted: closing a DJL handle drops one reference, and the
 * memory goes only when autograd holds none either. So closing an intermediate never changes the
 * result or the gradients; it frees what autograd does not keep (a ReLU's input, a residual sum,
 * the scores before the softmax) instead of leaving it resident until the step's manager closes.
 *
 * <p>{@link #keepingAll} turns the freeing off on the calling thread: the reference the tests
 * compare gradients against (every intermediate alive until its manager closes).
 */
public final class Intermediates {
  private static final ThreadLocal<Boolean> KEEP = ThreadLocal.withInitial(() -> false);

  private Intermediates() {}

  /** Closes the handles of {@code arrays} (nulls skipped), unless {@link #keepingAll} runs. */
  public static void release(NDArray... arrays) {
    if (KEEP.get()) {
      return;
    }
    for (NDArray a : arrays) {
      if (a != null) {
        a.close();
      }
    }
  }

  /**
   * Closes the arrays of {@code consumed} that are neither in {@code kept} nor in {@code produced}
   * (compared by identity): a block may pass its input through, or return an array of its input.
   */
  static void releaseConsumed(NDList consumed, NDList kept, NDList produced) {
    for (NDArray a : consumed) {
      if (!contains(kept, a) && !contains(produced, a)) {
        release(a);
      }
    }
  }

  private static boolean contains(NDList list, NDArray array) {
    for (NDArray a : list) {
      if (a == array) {
        return true;
      }
    }
    return false;
  }

  /** Runs {@code action} with every intermediate kept until its manager closes. */
  public static <T> T keepingAll(Supplier<T> action) {
    boolean before = KEEP.get();
    KEEP.set(true);
    try {
      return action.get();
    } finally {
      KEEP.set(before);
    }
  }
}
