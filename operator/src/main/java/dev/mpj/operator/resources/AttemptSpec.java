package dev.mpj.operator.resources;

import dev.mpj.api.JobFiles;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobSpec;
import dev.mpj.api.Precision;

/**
 * The spec an attempt is sized and trained with: the job's own, its FP32 version once the job fell
 * back to FP32 (status.precisionFallback; spec.precision itself is immutable), or the FP32
 * reference run's before the job's own run (spec.parity.reference).
 */
public final class AttemptSpec {
  private AttemptSpec() {}

  /** Whether the job trains in FP32 after a fallback. */
  public static boolean fellBackToFp32(MixedPrecisionJob job) {
    return job.getStatus() != null && job.getStatus().precisionFallback != null;
  }

  /**
   * A copy in FP32, without the working-against-master parity check, after a fallback; the FP32
   * reference's spec while reference parity's reference runs ({@link ReferenceRun}).
   */
  public static MixedPrecisionJobSpec of(MixedPrecisionJob job) {
    if (ReferenceRun.running(job)) {
      return ReferenceRun.spec(job);
    }
    if (!fellBackToFp32(job)) {
      return job.getSpec();
    }
    MixedPrecisionJobSpec fp32 =
        JobFiles.yamlMapper().convertValue(job.getSpec(), MixedPrecisionJobSpec.class);
    fp32.precision = Precision.FP32;
    fp32.parity = null;
    return fp32;
  }
}
