package dev.mpj.trainer.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;

/**
 * Views of a parameter-shaped array in consecutive pieces of at most {@link #ELEMENTS} elements of
 * its flattened form. The update step works piece by piece, so that its temporaries are bounded by
 * the size of a piece, not of the model or its largest parameter, and each piece's working set
 * stays in the processor's cache while several operations pass over it. A view shares the array's
 * memory: an in-place operation on it changes the array. The caller closes each view (closing it
 * frees the handle, not the memory).
 */
public final class Slices {
  /** Elements per piece: 1 MiB of FP32. */
  public static final long ELEMENTS = 1L << 18;

  private Slices() {}

  /** How many pieces {@code array} has. */
  public static int count(NDArray array) {
    return (int) ((array.size() + ELEMENTS - 1) / ELEMENTS);
  }

  /** Piece {@code index} of {@code array}, flattened: a view. */
  public static NDArray view(NDArray array, int index) {
    NDArray flat = array.reshape(-1);
    if (array.size() <= ELEMENTS) {
      return flat;
    }
    long start = index * ELEMENTS;
    long end = Math.min(array.size(), start + ELEMENTS);
    try (flat) {
      return flat.get(new NDIndex("{}:{}", start, end));
    }
  }
}
