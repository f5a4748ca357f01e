package dev.mpj.trainer.loop;

/**
 * One optimizer step attempt. {@code loss} is the FP32 loss before scaling; {@code lossScale} the
 * scale this step used; {@code overflow} whether a gradient held inf/NaN, so that the step was
 * skipped; {@code gradNorm} the global L2 norm of the unscaled gradients before clipping (null when
 * the step overflowed). The timings split the step into its phases, in seconds.
 */
public record StepResult(
    long step,
    double loss,
    double lossScale,
    boolean overflow,
    Double gradNorm,
    double samplesPerSecond,
    int microBatch,
    int accumulation,
    ParityCheck parity,
    Timings timings) {

  /** Seconds spent in each phase of the step. */
  public record Timings(
      double forwardBackward, double unscaleAndCheck, double update, double copyBack) {}
}
