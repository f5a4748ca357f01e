package dev.mpj.operator.sizing;

/**
 * Predicted peak memory of one replica, in bytes, by what holds it.
 *
 * @param updateTemporaries the most that the update step's temporaries (unscaling, the overflow
 *     check and norm, the optimizer arithmetic) hold at once: a few pieces of the weights; see
 *     {@link MemoryModel#updateTemporaryBytes}
 */
public record MemoryBreakdown(
    long weights,
    long masterWeights,
    long gradients,
    long optimizerState,
    long updateTemporaries,
    long activations,
    long overhead) {

  /** Weights, FP32 master weights, gradients and optimizer state: what lives from step to step. */
  public long modelState() {
    return weights + masterWeights + gradients + optimizerState;
  }

  /** What does not grow with the micro-batch: the model state and the update step's temporaries. */
  public long perParameter() {
    return modelState() + updateTemporaries;
  }

  /**
   * The step's peak of what the training process allocates itself, no reserve: the model state,
   * plus the larger of the update temporaries and the activations. The trainer frees each
   * micro-batch's activations after its backward pass, before the update step makes its
   * temporaries, so the two are never resident together.
   */
  public long training() {
    return modelState() + Math.max(updateTemporaries, activations);
  }

  public long total() {
    return training() + overhead;
  }
}
