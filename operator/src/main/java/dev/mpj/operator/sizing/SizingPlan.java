package dev.mpj.operator.sizing;

import dev.mpj.api.SizingStatus;

/**
 * The decision the operator acts on, and the figures it records in {@code status.sizing}.
 *
 * @param fits false when the job cannot run: it does not fit one GPU even at micro-batch 1, or the
 *     cluster lacks the GPUs; {@code message} then says why, with the numbers
 */
public record SizingPlan(
    boolean fits,
    int replicas,
    int microBatch,
    int gradientAccumulation,
    SizingStatus status,
    String message) {

  /** The plan of {@code split}: replicas, micro-batch and accumulation, all 0 without a split. */
  static SizingPlan of(boolean fits, BatchSplit split, SizingStatus status, String message) {
    return new SizingPlan(
        fits,
        split != null ? split.replicas() : 0,
        split != null ? split.microBatch() : 0,
        split != null ? split.gradientAccumulation() : 0,
        status,
        message);
  }

  /**
   * True when the job fits but the cluster has fewer free GPUs than replicas.min needs: it should
   * wait (and be re-planned when capacity changes), not stall.
   */
  public boolean waitingForGpus() {
    return !fits && PrecisionSizing.Outcome.WAITING_FOR_GPUS.reason().equals(reason());
  }

  /**
   * Why the job cannot run: {@code WaitingForGpus} (capacity, which comes and goes), or {@code
   * DoesNotFit} / {@code BatchNotSplittable} (only a spec change fixes them); {@code Fits} or
   * {@code NotSized} when it runs.
   */
  public String reason() {
    if (status != null && status.reason != null) {
      return status.reason;
    }
    return (fits ? PrecisionSizing.Outcome.RUNS : PrecisionSizing.Outcome.DOES_NOT_FIT).reason();
  }
}
