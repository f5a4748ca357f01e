package dev.mpj.operator.sizing;

import dev.mpj.api.Precision;
import dev.mpj.api.SizingStatus;

/**
 * A job sized in both precisions: what {@code mpj plan} prints, and what the operator acts on
 * through {@link #toSizingPlan()}.
 *
 * @param parameters trainable parameters of the model
 * @param freeGpus GPUs free on matching nodes, or null when not counted (offline)
 * @param precision the job's own precision
 * @param memorySavedPerReplicaBytes training memory of one FP32 replica less that of one FP16-mixed
 *     replica, both at the micro-batch of the job's own plan
 */
public record JobSizing(
    long parameters,
    GpuMemory gpuMemory,
    Integer freeGpus,
    Precision precision,
    PrecisionSizing fp32,
    PrecisionSizing fp16Mixed,
    long memorySavedPerReplicaBytes) {

  /** The plan that runs: the job's own precision. */
  public PrecisionSizing job() {
    return precision.isMixed() ? fp16Mixed : fp32;
  }

  /** GPUs FP16 mixed precision saves against FP32; null unless both run. */
  public Integer gpusSavedByMixed() {
    return fp32.runs() && fp16Mixed.runs() ? fp32.gpus() - fp16Mixed.gpus() : null;
  }

  /**
   * The figures for {@code status.sizing}; gpusSaved is the job's precision against FP32 (0 for an
   * FP32 job).
   */
  public SizingStatus toStatus() {
    SizingStatus status = new SizingStatus();
    status.parameters = parameters;
    status.gpuMemoryBytes = gpuMemory.bytes();
    status.gpuMemorySource = gpuMemory.source();
    status.fits = job().memoryFits();
    status.plan = job().toStatus();
    status.fp32 = fp32.toStatus();
    boolean mixed = precision.isMixed();
    status.gpusSaved = mixed ? gpusSavedByMixed() : Integer.valueOf(0);
    status.memorySavedPerReplicaBytes = mixed ? memorySavedPerReplicaBytes : 0L;
    status.reason = job().outcome().reason();
    status.message = job().message();
    return status;
  }

  /** The decision the operator acts on. */
  public SizingPlan toSizingPlan() {
    PrecisionSizing job = job();
    return SizingPlan.of(job.runs(), job.split(), toStatus(), job.message());
  }
}
