package dev.mpj.operator.queue;

import dev.mpj.api.JobPhase;
import dev.mpj.operator.gang.Replica;
import dev.mpj.operator.gang.Verdict;
import java.util.List;

/**
 * What the job controller owes Kueue after a reconcile, by its protocol: create the Workload,
 * release the quota of an evicted one once the pods are gone, mark a finished job's Workload
 * finished. A pure function of what was observed and decided.
 */
public sealed interface QueueStep {

  record None() implements QueueStep {}

  /** No Workload yet: create it (sized, not yet admitted). */
  record Create() implements QueueStep {}

  /** Evicted and every pod gone: release the quota so Kueue can queue the job again. */
  record ReleaseQuota(String message) implements QueueStep {}

  /** The job ended: the Workload is Finished. */
  record Finish(boolean succeeded, String message) implements QueueStep {}

  /**
   * @param admission the Workload's state before this reconcile
   * @param replicas the job's pods as observed
   * @param verdict what the gang logic decided
   * @param before the job's phase before this reconcile, or null
   */
  public static QueueStep next(
      Admission admission, List<Replica> replicas, Verdict verdict, JobPhase before) {
    boolean phaseFinished = before != null && before.isFinished();
    if (verdict instanceof Verdict.InvalidSpec) {
      return new None();
    }
    if (!admission.exists()) {
      return phaseFinished ? new None() : new Create();
    }
    if (verdict instanceof Verdict.Succeed s) {
      return admission.finished() ? new None() : new Finish(true, s.message());
    }
    if (verdict instanceof Verdict.Fail f) {
      return admission.finished() ? new None() : new Finish(false, f.message());
    }
    if (verdict instanceof Verdict.Finished && !admission.finished()) {
      return new Finish(before == JobPhase.Succeeded, "the job " + before);
    }
    if (admission.evicted() && admission.quotaReserved() && replicas.isEmpty()) {
      return new ReleaseQuota(
          "the job stopped its pods after the eviction"
              + (admission.reason() == null ? "" : " (" + admission.reason() + ")"));
    }
    return new None();
  }
}
