package dev.mpj.operator.resources;

import dev.mpj.api.JobFiles;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobSpec;
import dev.mpj.api.MixedPrecisionJobStatus;
import dev.mpj.api.ParitySpec;
import dev.mpj.api.Precision;
import dev.mpj.api.ReferenceParityStatus;
import dev.mpj.api.TrainerConfig;

/**
 * Reference parity's FP32 run (spec.parity.reference). Schedule before: the job's first attempts
 * train an FP32 copy of the job for reference.steps steps, as a gang of its own, sized for FP32 and
 * under the same checkpoint and restart rules; once it finished, the job's own run starts. Schedule
 * beside: the same FP32 run is the reference gang ({@link ReferenceGang}) beside the job's own.
 * Pure functions of the job.
 */
public final class ReferenceRun {
  private ReferenceRun() {}

  /**
   * Whether the current attempts are the FP32 reference run: schedule before's first attempts, or
   * schedule beside's reference gang ({@link ReferenceGang#view}).
   */
  public static boolean running(MixedPrecisionJob job) {
    if (ReferenceGang.isView(job)) {
      return true;
    }
    ParitySpec parity = job.getSpec().parity;
    if (parity == null
        || parity.reference == null
        || parity.reference.steps == null
        || parity.reference.schedule != ParitySpec.Schedule.BEFORE
        || job.getSpec().precision == Precision.FP32) {
      return false;
    }
    MixedPrecisionJobStatus status = job.getStatus();
    if (status == null) {
      return true;
    }
    if (status.precisionFallback != null) {
      return false;
    }
    ReferenceParityStatus r = status.parity == null ? null : status.parity.reference;
    return r == null || r.phase == null || ReferenceParityStatus.REFERENCE_RUNNING.equals(r.phase);
  }

  /**
   * The reference's spec: the job's in FP32, for reference.steps steps (the same seed, data order
   * and global batch), without the working-weights check.
   */
  public static MixedPrecisionJobSpec spec(MixedPrecisionJob job) {
    MixedPrecisionJobSpec fp32 =
        JobFiles.yamlMapper().convertValue(job.getSpec(), MixedPrecisionJobSpec.class);
    fp32.precision = Precision.FP32;
    fp32.training.steps = job.getSpec().parity.reference.steps;
    fp32.training.epochs = null;
    fp32.parity = null;
    return fp32;
  }

  /**
   * What the trainer of this attempt does for reference parity: the reference run records its
   * figures; the job's own run records its own and compares them with the reference's. Null without
   * reference parity, and in FP32 after a fallback (that run is no longer the mixed one).
   */
  public static TrainerConfig.ReferenceParity trainerConfig(MixedPrecisionJob job) {
    ParitySpec parity = job.getSpec().parity;
    if (parity == null || parity.reference == null || parity.reference.steps == null) {
      return null;
    }
    if (!ReferenceGang.isView(job)
        && (AttemptSpec.fellBackToFp32(job) || job.getSpec().precision == Precision.FP32)) {
      return null;
    }
    TrainerConfig.ReferenceParity r = new TrainerConfig.ReferenceParity();
    r.step = parity.reference.steps;
    r.windowSteps = parity.reference.window();
    if (running(job)) {
      r.referenceRun = true;
      return r;
    }
    if (ReferenceGang.beside(job)) {
      // Beside, the job's run only reports its figures: the operator compares once it has both.
      return r;
    }
    MixedPrecisionJobStatus status = job.getStatus();
    ReferenceParityStatus done = status.parity == null ? null : status.parity.reference;
    r.reference = done == null ? null : done.reference;
    return r;
  }
}
