package dev.mpj.operator.gang;

import dev.mpj.api.JobPhase;
import dev.mpj.api.validation.Violation;
import java.time.Instant;
import java.util.List;

/** What the gang logic decided for one reconcile. Each carries the pods it stops, by name. */
public sealed interface Verdict {

  /** Pods to delete (gracefully: trainers get SIGTERM and checkpoint). */
  List<String> podsToStop();

  /** The spec cannot run: nothing is created, nothing is touched, the status says why. */
  record InvalidSpec(List<Violation> violations) implements Verdict {
    @Override
    public List<String> podsToStop() {
      return List.of();
    }
  }

  /** The job ended before; it is deleted with what it owns at {@code deleteAt} (null: kept). */
  record Finished(Instant deleteAt, List<String> podsToStop) implements Verdict {}

  /** The job fails now, for {@code reason}; its active pods are stopped. */
  record Fail(String reason, String message, List<String> podsToStop) implements Verdict {}

  /** Rank 0 finished training. */
  record Succeed(String message, List<String> podsToStop) implements Verdict {}

  /**
   * spec.runPolicy.suspend, or Kueue has not admitted the job (or evicted it): stop the gang and
   * wait. {@code reason} and {@code message} say why for the Suspended condition.
   */
  record Suspend(List<String> podsToStop, String reason, String message) implements Verdict {
    public Suspend(List<String> podsToStop) {
      this(
          podsToStop,
          "Suspended",
          "suspended: pods stopped; setting runPolicy.suspend to false resumes from the newest"
              + " checkpoint");
    }
  }

  /**
   * Stop the whole gang; attempt {@code nextAttempt} starts from the newest checkpoint once the old
   * pods are gone. Only failures count against backoffLimit; a resize or a disruption does not.
   *
   * @param disruption the DisruptionTarget reason of the pod Kubernetes disrupted, when that is why
   *     the gang restarts, else null
   */
  record Restart(
      int nextAttempt,
      boolean failure,
      String reason,
      String message,
      List<String> podsToStop,
      String disruption)
      implements Verdict {

    public Restart(
        int nextAttempt, boolean failure, String reason, String message, List<String> podsToStop) {
      this(nextAttempt, failure, reason, message, podsToStop, null);
    }

    /** Kubernetes disrupted a pod: counted in status.disruptions, not against backoffLimit. */
    public boolean disrupted() {
      return disruption != null;
    }
  }

  /**
   * Pods of an earlier attempt are still there: wait until they are gone before starting the next.
   */
  record AwaitStop(List<String> podsToStop) implements Verdict {}

  /**
   * Create the pods of {@code attempt}. {@code worldSize} null: the attempt is new, size it and
   * create every rank; otherwise create the {@code missingRanks} of an attempt already sized.
   */
  record Start(int attempt, Integer worldSize, List<Integer> missingRanks, boolean resumed)
      implements Verdict {
    @Override
    public List<String> podsToStop() {
      return List.of();
    }

    public boolean isNew() {
      return worldSize == null;
    }
  }

  /** Nothing to change: the gang is starting or running. */
  record Observe(JobPhase phase, int attempt, int replicas, int readyReplicas) implements Verdict {
    @Override
    public List<String> podsToStop() {
      return List.of();
    }
  }
}
