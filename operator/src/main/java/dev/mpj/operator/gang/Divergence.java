package dev.mpj.operator.gang;

import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobSpec;
import dev.mpj.api.MixedPrecisionJobStatus;
import dev.mpj.api.ParitySpec;
import dev.mpj.api.Precision;
import dev.mpj.api.PrecisionFallbackStatus;
import dev.mpj.api.TrainerContract;
import dev.mpj.api.TrainingHealthStatus;
import dev.mpj.operator.resources.ReferenceRun;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * What spec.parity.onDivergence makes of an unhealthy fp16-mixed run (status.health from rank 0):
 * {@code fail} ends the job, {@code fallback-fp32} restarts the gang in FP32 from the newest
 * checkpoint, once. Pure functions of the job.
 *
 * <p>Why the newest checkpoint is a healthy one: the training loop never applies a step whose
 * gradients overflowed, so the FP32 master weights and optimizer state in every checkpoint are
 * finite, and exactly the state an FP32 run of the same model would continue from.
 */
public final class Divergence {
  /** The Restart reason, condition reason and Event reason of the fallback. */
  public static final String FALLBACK_REASON = "FallbackToFp32";

  /** The Fail reason with onDivergence: fail. */
  public static final String FAIL_REASON = "TrainingUnhealthy";

  private Divergence() {}

  /**
   * The verdict onDivergence asks for, or empty when the job is healthy, has no onDivergence, is
   * not fp16-mixed, already fell back, or is running its FP32 reference (spec.parity.reference).
   *
   * @param current the pods of the current attempt
   */
  public static Optional<Verdict> decide(
      MixedPrecisionJob job, MixedPrecisionJobStatus status, int attempt, List<Replica> current) {
    MixedPrecisionJobSpec spec = job.getSpec();
    ParitySpec parity = spec.parity;
    TrainingHealthStatus health = status.health;
    if (parity == null
        || parity.onDivergence == null
        || spec.precision != Precision.FP16_MIXED
        || status.precisionFallback != null
        || ReferenceRun.running(job)
        || health == null
        || !Boolean.FALSE.equals(health.healthy)) {
      return Optional.empty();
    }
    String what = "training unhealthy at step " + health.step + ": " + health.message;
    if (parity.onDivergence == ParitySpec.Divergence.FAIL) {
      return Optional.of(
          new Verdict.Fail(
              FAIL_REASON,
              what + " (spec.parity.onDivergence: fail)",
              names(current, Replica::active)));
    }
    return Optional.of(
        new Verdict.Restart(
            attempt + 1,
            false,
            FALLBACK_REASON,
            what + "; falling back to FP32 (spec.parity.onDivergence: fallback-fp32)",
            names(current, r -> !r.deleting())));
  }

  /**
   * Rank 0 stopped the run as unhealthy (exit {@link TrainerContract#EXIT_UNHEALTHY}, which it does
   * only with onDivergence set): fall back to FP32 once, else fail.
   */
  public static Verdict onUnhealthyExit(
      MixedPrecisionJob job,
      MixedPrecisionJobStatus status,
      int attempt,
      Replica rank0,
      List<Replica> current) {
    ParitySpec parity = job.getSpec().parity;
    String what = rank0.failureDescription() + ": the trainer stopped the run as unhealthy";
    if (parity != null
        && parity.onDivergence == ParitySpec.Divergence.FALLBACK_FP32
        && status.precisionFallback == null) {
      return new Verdict.Restart(
          attempt + 1,
          false,
          FALLBACK_REASON,
          what + "; falling back to FP32 (spec.parity.onDivergence: fallback-fp32)",
          names(current, r -> !r.deleting()));
    }
    String setting =
        parity == null || parity.onDivergence == null
            ? "unset"
            : parity.onDivergence == ParitySpec.Divergence.FAIL
                ? "fail"
                : "fallback-fp32, already in FP32";
    return new Verdict.Fail(
        FAIL_REASON,
        what + " (spec.parity.onDivergence: " + setting + ")",
        names(current, Replica::active));
  }

  /** The record status.precisionFallback keeps of a fallback restart. */
  public static PrecisionFallbackStatus fallback(
      TrainingHealthStatus health, int attempt, String message, Instant now) {
    PrecisionFallbackStatus f = new PrecisionFallbackStatus();
    f.precision = Precision.FP32.value();
    f.attempt = attempt;
    f.step = health == null ? null : health.step;
    f.reasons = health == null ? null : health.reasons;
    f.message = message;
    f.time = now.toString();
    return f;
  }

  private static List<String> names(List<Replica> replicas, Predicate<Replica> which) {
    return replicas.stream().filter(which).map(Replica::name).sorted().toList();
  }
}
