package dev.mpj.api;

/**
 * How the trainer splits a cross-entropy loss into pieces of rows, and how the sizing model counts
 * it: one rule for both sides, so neither can drift.
 *
 * <p>The trainer takes the log-softmax and the class-index pick of a micro-batch's outputs in
 * {@link #chunks} pieces of rows (a row is one sample of a classifier, one position of a sequence).
 * Each row's arithmetic is the same whole or in pieces, so the loss and the gradients are bit for
 * bit those of one piece; but autograd runs the backward of one piece after the other, so the FP32
 * gradients of the log-softmax's output and input (8 bytes per output value) exist for one piece at
 * a time instead of for the whole micro-batch. Small outputs (a few classes) stay in one piece: the
 * extra native calls would cost more than the bytes they save.
 */
public final class LossChunks {
  /** Pieces a large loss is taken in. */
  public static final int PIECES = 8;

  /** Output values per sample from which the loss is taken in {@link #PIECES} pieces. */
  public static final long MIN_OUTPUTS_PER_SAMPLE = 4096;

  private LossChunks() {}

  /** Whether a loss of {@code outputsPerSample} output values per sample is split at all. */
  public static boolean split(long outputsPerSample) {
    return outputsPerSample >= MIN_OUTPUTS_PER_SAMPLE;
  }

  /**
   * Pieces the loss over {@code rows} rows of {@code outputsPerSample} values per sample is taken
   * in: {@link #PIECES} (at most one per row) where {@link #split}, else 1.
   */
  public static int chunks(long rows, long outputsPerSample) {
    if (rows < 1) {
      throw new IllegalArgumentException("rows must be at least 1, not " + rows);
    }
    return split(outputsPerSample) ? (int) Math.min(rows, PIECES) : 1;
  }

  /** Rows of each piece but the last (which may be smaller): {@code ceil(rows / chunks)}. */
  public static long rowsPerChunk(long rows, long outputsPerSample) {
    long chunks = chunks(rows, outputsPerSample);
    return (rows + chunks - 1) / chunks;
  }
}
