package dev.mpj.operator.sizing;

/** Predicted peak memory of one replica, in bytes, by what holds it. */
public record MemoryBreakdown(
    long weights, long masterWeights, long gradients, long optimizerState, long activations, long overhead) {

  /** Weights, FP32 master weights, gradients and optimizer state: what does not grow with the micro-batch. */
  public long modelState() {
    return weights + masterWeights + gradients + optimizerState;
  }

  /** Everything the training process allocates itself: model state and activations, no reserve. */
  public long training() {
    return modelState() + activations;
  }

  public long total() {
    return training() + overhead;
  }
}
