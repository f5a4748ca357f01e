package dev.mpj.trainer.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import dev.mpj.api.UpdatePieces;

/**
 * Parameter-shaped arrays in consecutive pieces of their flattened form. The update step works
 * piece by piece, so that its temporaries are bounded by the size of a piece, not of the model or
 * its largest parameter, and each piece's working set stays in the processor's cache while several
 * operations pass over it. A piece of an array larger than one piece is a view: it shares the
 * array's memory, so an in-place operation on it changes the array. An array of one piece is passed
 * as it is, with no view: at the small layers of a small model the views' native calls would cost
 * more than the arithmetic.
 */
public final class Slices {
  /** Elements per piece of the norms and of SGD: 1 MiB of FP32 ({@link UpdatePieces#ELEMENTS}). */
  public static final long ELEMENTS = UpdatePieces.ELEMENTS;

  /**
   * Elements per piece of Adam's fused update: 256 KiB of FP32 ({@link
   * UpdatePieces#FUSED_ELEMENTS}). libtorch's kernel holds five temporaries of its piece's size at
   * once: 1.25 MiB, less than two pieces of {@link #ELEMENTS}.
   */
  public static final long FUSED_ELEMENTS = UpdatePieces.FUSED_ELEMENTS;

  private Slices() {}

  /** What runs on each piece: same-index pieces of the arrays given to {@link #forEachPiece}. */
  @FunctionalInterface
  public interface PieceAction {
    void apply(NDArray[] pieces);
  }

  /** How many pieces of {@link #ELEMENTS} {@code array} has. */
  public static int count(NDArray array) {
    return count(array, ELEMENTS);
  }

  /** How many pieces of {@code elements} {@code array} has. */
  public static int count(NDArray array, long elements) {
    return (int) ((array.size() + elements - 1) / elements);
  }

  /**
   * Runs {@code action} on each piece of {@code elements} of the {@code arrays} (all of one size),
   * the pieces of one index together, in order. An array of one piece is given as it is; larger
   * arrays are flattened once and given as views of each piece, closed after the action (closing a
   * view frees its handle, not the memory). The action must not close what it is given.
   */
  public static void forEachPiece(long elements, PieceAction action, NDArray... arrays) {
    long size = arrays[0].size();
    if (size <= elements) {
      action.apply(arrays);
      return;
    }
    NDArray[] flat = new NDArray[arrays.length];
    NDArray[] pieces = new NDArray[arrays.length];
    try {
      for (int a = 0; a < arrays.length; a++) {
        flat[a] = arrays[a].reshape(-1);
      }
      for (long start = 0; start < size; start += elements) {
        NDIndex range = new NDIndex().addSliceDim(start, Math.min(size, start + elements));
        try {
          for (int a = 0; a < arrays.length; a++) {
            pieces[a] = flat[a].get(range);
          }
          action.apply(pieces);
        } finally {
          closeAll(pieces);
        }
      }
    } finally {
      closeAll(flat);
    }
  }

  /** Piece {@code index} of {@code array}, flattened: a view the caller closes. */
  public static NDArray view(NDArray array, int index) {
    NDArray flat = array.reshape(-1);
    if (array.size() <= ELEMENTS) {
      return flat;
    }
    long start = index * ELEMENTS;
    long end = Math.min(array.size(), start + ELEMENTS);
    try (flat) {
      return flat.get(new NDIndex().addSliceDim(start, end));
    }
  }

  private static void closeAll(NDArray[] arrays) {
    for (int a = 0; a < arrays.length; a++) {
      if (arrays[a] != null) {
        arrays[a].close();
        arrays[a] = null;
      }
    }
  }
}
