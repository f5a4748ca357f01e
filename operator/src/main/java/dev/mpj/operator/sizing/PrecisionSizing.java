package dev.mpj.operator.sizing;

import dev.mpj.api.Precision;
import dev.mpj.api.SizingStatus;

/**
 * The plan of a job in one precision.
 *
 * @param activationBytesPerSample activation memory one sample adds to a replica
 * @param maxMicroBatch the largest micro-batch whose replica fits in one GPU; 0 when none does
 * @param split replicas, micro-batch and accumulation; null when the job does not fit or the global
 *     batch cannot be split within the replica bounds
 * @param bytesPerReplica predicted memory of one replica at the split's micro-batch (at micro-batch
 *     1 when there is no split)
 * @param message the decision in words, with its numbers
 */
public record PrecisionSizing(
    Precision precision,
    Outcome outcome,
    long activationBytesPerSample,
    int maxMicroBatch,
    BatchSplit split,
    int gpusPerReplica,
    MemoryBreakdown bytesPerReplica,
    String message) {

  /** Whether and why this precision can run. The names double as condition reasons. */
  public enum Outcome {
    /** It fits and the cluster has the GPUs (or offline planning, where GPUs are not counted). */
    RUNS("Fits"),
    /** One replica does not fit one GPU even at micro-batch 1. */
    DOES_NOT_FIT("DoesNotFit"),
    /** It fits, but fewer GPUs are free than replicas.min needs. */
    WAITING_FOR_GPUS("WaitingForGpus"),
    /** No replica count within replicas.min..max divides the global batch evenly. */
    BATCH_NOT_SPLITTABLE("BatchNotSplittable");

    private final String reason;

    Outcome(String reason) {
      this.reason = reason;
    }

    public String reason() {
      return reason;
    }
  }

  public boolean runs() {
    return outcome == Outcome.RUNS;
  }

  public boolean memoryFits() {
    return outcome != Outcome.DOES_NOT_FIT;
  }

  /** GPUs the split takes; 0 without a split. */
  public int gpus() {
    return split != null ? split.replicas() * gpusPerReplica : 0;
  }

  SizingStatus.PrecisionPlan toStatus() {
    SizingStatus.PrecisionPlan plan = toStatus(precision, split, gpusPerReplica);
    plan.fits = memoryFits();
    plan.bytesPerReplica = bytesPerReplica.total();
    plan.maxMicroBatch = maxMicroBatch;
    return plan;
  }

  /** The plan's precision and split, for a job whose memory is not known. */
  static SizingStatus.PrecisionPlan toStatus(
      Precision precision, BatchSplit split, int gpusPerReplica) {
    SizingStatus.PrecisionPlan plan = new SizingStatus.PrecisionPlan();
    plan.precision = precision.value();
    if (split != null) {
      plan.microBatch = split.microBatch();
      plan.gradientAccumulation = split.gradientAccumulation();
      plan.replicas = split.replicas();
      plan.gpus = split.replicas() * gpusPerReplica;
    }
    return plan;
  }
}
