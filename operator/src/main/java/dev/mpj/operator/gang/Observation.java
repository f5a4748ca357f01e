package dev.mpj.operator.gang;

import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.validation.Violation;
import dev.mpj.operator.queue.Admission;
import java.time.Instant;
import java.util.List;

/**
 * What one reconcile saw: the job (spec and last status), its replica pods, the time, the spec's
 * violations, and for a job queued in Kueue what Kueue decided (null: not queued).
 */
public record Observation(
    MixedPrecisionJob job,
    List<Replica> replicas,
    Instant now,
    List<Violation> violations,
    Admission admission) {

  public Observation(
      MixedPrecisionJob job, List<Replica> replicas, Instant now, List<Violation> violations) {
    this(job, replicas, now, violations, null);
  }
}
