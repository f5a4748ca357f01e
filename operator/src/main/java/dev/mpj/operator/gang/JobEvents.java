package dev.mpj.operator.gang;

import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobStatus;
import dev.mpj.api.validation.Violation;
import dev.mpj.operator.events.JobEvent;
import dev.mpj.operator.sizing.SizingPlan;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/** The Events a verdict deserves: each decision a user cares about, once. A pure function. */
public final class JobEvents {
  private JobEvents() {}

  /**
   * @param before the status before this reconcile (null on the first)
   * @param after the status this reconcile writes
   */
  public static List<JobEvent> of(
      MixedPrecisionJobStatus before,
      MixedPrecisionJobStatus after,
      Verdict verdict,
      SizingPlan plan) {
    List<JobEvent> events = new ArrayList<>();
    if (verdict instanceof Verdict.InvalidSpec v) {
      if (before == null || !after.message.equals(before.message)) {
        events.add(
            JobEvent.warning(
                "InvalidSpec",
                v.violations().stream()
                    .map(Violation::toString)
                    .collect(Collectors.joining("; "))));
      }
    } else if (verdict instanceof Verdict.Fail v) {
      events.add(JobEvent.warning(v.reason(), "job failed: " + v.message()));
    } else if (verdict instanceof Verdict.Succeed v) {
      events.add(JobEvent.normal("Succeeded", after.message));
    } else if (verdict instanceof Verdict.Suspend v) {
      if (before == null || before.phase != after.phase || !v.podsToStop().isEmpty()) {
        events.add(
            JobEvent.normal(
                "Suspended", v.message() + "; stopping " + v.podsToStop().size() + " pods"));
      }
    } else if (verdict instanceof Verdict.Restart v) {
      if (v.failure()) {
        events.add(JobEvent.warning("ReplicaFailed", v.message()));
      }
      if (Divergence.FALLBACK_REASON.equals(v.reason())) {
        events.add(JobEvent.warning(Divergence.FALLBACK_REASON, v.message()));
      }
      if (v.disrupted()) {
        events.add(JobEvent.normal(GangPlanner.DISRUPTED, v.message()));
      }
      if (ReferenceParity.REFERENCE_FINISHED.equals(v.reason())) {
        // Not a restart of the same run: the job's own run starts from step 0.
        events.add(
            JobEvent.normal(
                ReferenceParity.REFERENCE_FINISHED,
                v.message() + " as attempt " + v.nextAttempt()));
        healthChange(before, after).ifPresent(events::add);
        return events;
      }
      String from =
          after.lastCheckpoint != null && after.lastCheckpoint.step != null
              ? "restarting from step " + after.lastCheckpoint.step
              : "restarting from the newest checkpoint, if any";
      events.add(
          JobEvent.normal(
              "Restarting",
              (v.failure()
                      ? "restart " + after.restarts
                      : Divergence.FALLBACK_REASON.equals(v.reason())
                          ? "FP32 fallback"
                          : v.disrupted() ? "disruption " + after.disruptions : "resize")
                  + ": attempt "
                  + v.nextAttempt()
                  + ", "
                  + from));
    } else if (verdict instanceof Verdict.Start v && v.isNew()) {
      if (plan != null && plan.waitingForGpus()) {
        // Once when the wait begins: the free GPU count in the message changes while it lasts.
        if (!waitingForGpus(before)) {
          events.add(JobEvent.normal(JobStatuses.WAITING_FOR_GPUS, after.message));
        }
      } else if (plan == null || !plan.fits()) {
        if (before == null || !after.message.equals(before.message)) {
          events.add(JobEvent.warning(plan == null ? "DoesNotFit" : plan.reason(), after.message));
        }
      } else {
        events.add(
            JobEvent.normal(
                "Sized",
                plan.replicas()
                    + " replicas, micro-batch "
                    + plan.microBatch()
                    + ", gradient accumulation "
                    + plan.gradientAccumulation()
                    + (plan.message() == null ? "" : " (" + plan.message() + ")")));
        events.add(
            JobEvent.normal(
                "Started",
                (v.resumed() ? "resumed: " : "")
                    + "attempt "
                    + v.attempt()
                    + " with "
                    + plan.replicas()
                    + " replicas"));
      }
    } else if (verdict instanceof Verdict.Observe v) {
      if (before != null && before.phase != v.phase() && v.phase() == JobPhase.Running) {
        events.add(
            JobEvent.normal(
                "Running",
                "all " + v.replicas() + " replicas of attempt " + v.attempt() + " are running"));
      }
    }
    healthChange(before, after).ifPresent(events::add);
    ReferenceParity.event(before, after).ifPresent(events::add);
    return events;
  }

  /**
   * What makes a decision's Events one occurrence: the spec generation and the counters of the
   * status it leads to. A reconcile that repeats a decision (its status write failed) has the same
   * occurrence, and its Events are not recorded twice; a new attempt, restart or spec is new.
   */
  public static String occurrence(MixedPrecisionJob job, MixedPrecisionJobStatus after) {
    return "generation="
        + job.getMetadata().getGeneration()
        + " attempt="
        + after.attempt
        + " restarts="
        + after.restarts
        + " disruptions="
        + after.disruptions;
  }

  private static boolean waitingForGpus(MixedPrecisionJobStatus status) {
    return status != null
        && status.conditions != null
        && status.conditions.stream()
            .anyMatch(
                c ->
                    JobStatuses.RECONCILING.equals(c.getType())
                        && "True".equals(c.getStatus())
                        && JobStatuses.WAITING_FOR_GPUS.equals(c.getReason()));
  }

  /**
   * A Warning when rank 0's health turns bad (reason: the first health reason), a Normal event when
   * it recovers; nothing while it stays the same.
   */
  static Optional<JobEvent> healthChange(
      MixedPrecisionJobStatus before, MixedPrecisionJobStatus after) {
    Boolean was = before == null || before.health == null ? null : before.health.healthy;
    Boolean is = after.health == null ? null : after.health.healthy;
    if (is == null || is.equals(was)) {
      return Optional.empty();
    }
    if (!is) {
      String reason =
          after.health.reasons == null || after.health.reasons.isEmpty()
              ? "Unhealthy"
              : after.health.reasons.get(0);
      return Optional.of(
          JobEvent.warning(
              reason,
              "training unhealthy at step " + after.health.step + ": " + after.health.message));
    }
    return was == null
        ? Optional.empty()
        : Optional.of(
            JobEvent.normal(
                "TrainingHealthy", "training healthy again at step " + after.health.step));
  }
}
