package dev.mpj.operator.metrics;

import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJobStatus;
import dev.mpj.operator.gang.JobStatuses;
import dev.mpj.operator.gang.Verdict;
import dev.mpj.operator.queue.Admission;
import java.util.Optional;

/**
 * One disruption of a job's gang that is not its own fault, for {@code mpj_disruptions_total}: a
 * pod that Kubernetes disrupted (source {@code pod}, reason its DisruptionTarget reason), or a
 * Kueue eviction (source {@code kueue}, reason Kueue's: Preempted, PodsReadyTimeout, ...). A pure
 * function of one reconcile's decision, true once per disruption: a restart decides the next
 * attempt once, and an eviction is new when the job was not already suspended by one.
 *
 * @param source {@code pod} or {@code kueue}
 */
public record Disruption(String source, String reason) {
  public static final String POD = "pod";
  public static final String KUEUE = "kueue";

  /**
   * @param before the job's status before this reconcile, or null
   * @param admission its Workload's state (null when it is not queued)
   */
  public static Optional<Disruption> of(
      MixedPrecisionJobStatus before, Verdict verdict, Admission admission) {
    if (verdict instanceof Verdict.Restart r && r.disrupted()) {
      return Optional.of(new Disruption(POD, known(r.disruption())));
    }
    if (verdict instanceof Verdict.Suspend && admission != null && admission.evicted()) {
      boolean already =
          before != null
              && before.phase == JobPhase.Suspended
              && before.conditions != null
              && before.conditions.stream()
                  .anyMatch(
                      c ->
                          JobStatuses.SUSPENDED.equals(c.getType())
                              && "True".equals(c.getStatus())
                              && "Evicted".equals(c.getReason()));
      return already
          ? Optional.empty()
          : Optional.of(new Disruption(KUEUE, known(admission.reason())));
    }
    return Optional.empty();
  }

  private static String known(String reason) {
    return reason == null || reason.isBlank() ? "Unknown" : reason;
  }
}
