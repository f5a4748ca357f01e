package dev.mpj.api;

/**
 * The pieces the trainer's update step works in, and the sizing model counts: one rule for both
 * sides, so neither can drift. The step takes the norms, unscales, clips and updates each parameter
 * piece by piece and closes a piece's temporaries before the next, so its temporaries are bounded
 * by a piece, not by the model or its largest parameter.
 */
public final class UpdatePieces {
  /** Elements per piece of the gradient norms and of SGD: 1 MiB of FP32. */
  public static final long ELEMENTS = 1L << 18;

  /**
   * Elements per piece of Adam's fused update: 256 KiB of FP32. libtorch's kernel holds five
   * temporaries of its piece's size at once (the gradient's clone, {@code m * step}, {@code
   * sqrt(v)}, {@code + eps} and the quotient).
   */
  public static final long FUSED_ELEMENTS = 1L << 16;

  /** FP32 temporaries of its piece's size that Adam's fused kernel holds at once. */
  public static final int FUSED_TEMPORARIES = 5;

  private UpdatePieces() {}
}
