package dev.mpj.operator.gang;

import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJobStatus;
import dev.mpj.api.RunPolicySpec;
import dev.mpj.api.TrainerContract;
import dev.mpj.operator.resources.JobNames;
import dev.mpj.operator.resources.ReplicaPods;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.stream.IntStream;

/**
 * Decides what a job's gang needs next, from what was observed. A pure function: the same
 * observation always gives the same verdict, so a restarted operator decides as the old one would.
 *
 * <p>The current attempt is the larger of status.attempt and the attempt labels of the pods, so a
 * status that was not yet written (the operator died after creating pods) loses nothing.
 */
public final class GangPlanner {

  /** The restart reason when Kubernetes disrupted a pod (preemption, eviction, drain). */
  public static final String DISRUPTED = "Disrupted";

  private GangPlanner() {}

  public static Verdict decide(Observation o) {
    if (!o.violations().isEmpty()) {
      return new Verdict.InvalidSpec(o.violations());
    }
    MixedPrecisionJobStatus status =
        Optional.ofNullable(o.job().getStatus()).orElseGet(MixedPrecisionJobStatus::new);
    RunPolicySpec policy =
        Optional.ofNullable(o.job().getSpec().runPolicy).orElseGet(RunPolicySpec::new);
    JobPhase phase = status.phase;
    List<Replica> all = o.replicas();

    if (phase != null && phase.isFinished()) {
      return new Verdict.Finished(deleteAt(status, policy), names(all, Replica::active));
    }
    Instant deadline = deadline(status, policy);
    // A job queued in Kueue runs only while its Workload is admitted.
    boolean held = o.admission() != null && !o.admission().admitted();
    if (deadline != null && !o.now().isBefore(deadline) && !policy.suspend && !held) {
      return new Verdict.Fail(
          "DeadlineExceeded",
          "the job ran longer than runPolicy.activeDeadlineSeconds ("
              + policy.activeDeadlineSeconds
              + " s)",
          names(all, Replica::active));
    }
    if (policy.suspend) {
      return new Verdict.Suspend(names(all, r -> !r.deleting()));
    }
    if (held) {
      return new Verdict.Suspend(
          names(all, r -> !r.deleting()),
          o.admission().suspendReason(),
          o.admission().suspendMessage());
    }

    int attempt = Math.max(status.attempt, all.stream().mapToInt(Replica::attempt).max().orElse(0));
    // Resuming: the suspended gang's pods must be gone before the next attempt starts.
    List<Replica> stale =
        all.stream().filter(r -> r.attempt() < attempt || phase == JobPhase.Suspended).toList();
    if (!stale.isEmpty()) {
      return new Verdict.AwaitStop(names(stale, r -> !r.deleting()));
    }
    List<Replica> current = all.stream().filter(r -> r.attempt() == attempt).toList();
    if (current.isEmpty()) {
      if (attempt == 0) {
        return new Verdict.Start(1, null, List.of(), false);
      }
      if (phase == JobPhase.Suspended) {
        return new Verdict.Start(attempt + 1, null, List.of(), true);
      }
      if (phase == JobPhase.Running) {
        return restartOrFail(
            status, policy, attempt, "every pod of attempt " + attempt + " disappeared", List.of());
      }
      return new Verdict.Start(attempt, null, List.of(), false);
    }

    int worldSize = current.stream().mapToInt(Replica::worldSize).max().orElse(current.size());
    // The replica that decides: a failed one before a deleted one, one that failed on its own
    // before one that only saw a peer fail, then the lowest rank.
    Optional<Replica> failed =
        current.stream()
            .filter(r -> r.failed() || (r.deleting() && !r.succeeded()))
            .min(
                Comparator.comparing((Replica r) -> !r.failed())
                    .thenComparing(Replica::peerFailed)
                    .thenComparing(Replica::rank));
    if (failed.isPresent()) {
      Replica r = failed.get();
      List<String> stop = names(current, Replica::active);
      String why = reason(r, current);
      if (r.failed() && r.exitCode() != null && r.exitCode() == TrainerContract.EXIT_BAD_CONFIG) {
        return new Verdict.Fail(
            "InvalidConfig",
            r.failureDescription() + ": the trainer refused its config; not restarted" + why,
            stop);
      }
      if (r.failed()
          && r.exitCode() != null
          && r.exitCode() == TrainerContract.EXIT_PARITY_FAILURE) {
        return new Verdict.Fail(
            "PrecisionParity",
            r.failureDescription()
                + ": mixed precision left spec.parity.maxRelativeGap and parity.action is fail"
                + why,
            stop);
      }
      if (r.failed()
          && r.exitCode() != null
          && r.exitCode() == TrainerContract.EXIT_REFERENCE_PARITY_EXCEEDED) {
        return new Verdict.Fail(
            ReferenceParity.EXCEEDED,
            r.failureDescription()
                + ": the run left the FP32 reference's figures and spec.parity.reference.action is"
                + " fail; checkpoints kept"
                + why,
            stop);
      }
      if (r.failed() && r.exitCode() != null && r.exitCode() == TrainerContract.EXIT_UNHEALTHY) {
        return Divergence.onUnhealthyExit(o.job(), status, attempt, r, current);
      }
      Optional<Replica> disrupted = disrupted(r, current);
      if (disrupted.isPresent()) {
        Replica d = disrupted.get();
        String disruption = d.disruption();
        return new Verdict.Restart(
            attempt + 1,
            false,
            DISRUPTED,
            d.failureDescription()
                + " (Kubernetes disrupted it: "
                + disruption
                + "); not counted against runPolicy.backoffLimit",
            names(current, x -> !x.deleting()),
            disruption);
      }
      return restartOrFail(status, policy, attempt, r.failureDescription() + why, current);
    }

    Optional<Verdict> diverged = Divergence.decide(o.job(), status, attempt, current);
    if (diverged.isPresent()) {
      return diverged.get();
    }
    Optional<Replica> rank0 = current.stream().filter(r -> r.rank() == 0).findFirst();
    Optional<Verdict> referenceDone =
        rank0.flatMap(
            r ->
                ReferenceParity.referenceFinished(
                    o.job(), attempt, r, names(current, x -> !x.deleting())));
    if (referenceDone.isPresent()) {
      return referenceDone.get();
    }
    if (rank0.isPresent() && rank0.get().succeeded()) {
      return new Verdict.Succeed("rank 0 finished training", names(current, Replica::active));
    }
    List<Integer> missing =
        IntStream.range(0, worldSize)
            .filter(rank -> current.stream().noneMatch(r -> r.rank() == rank))
            .boxed()
            .toList();
    if (!missing.isEmpty()) {
      if (phase == JobPhase.Running) {
        return restartOrFail(
            status,
            policy,
            attempt,
            "pod " + JobNames.pod(o.job(), missing.get(0)) + " disappeared",
            current);
      }
      return new Verdict.Start(attempt, worldSize, missing, false);
    }
    String shape = ReplicaPods.shape(o.job().getSpec());
    if (current.stream().anyMatch(r -> !shape.equals(r.shape()))) {
      return new Verdict.Restart(
          attempt + 1,
          false,
          "Resized",
          "replicas or resources changed; restarting the gang with the new size",
          names(current, r -> !r.deleting()));
    }
    int ready = (int) current.stream().filter(r -> r.running() || r.succeeded()).count();
    JobPhase next =
        ready == worldSize
            ? JobPhase.Running
            : (phase == JobPhase.Restarting ? JobPhase.Restarting : JobPhase.Pending);
    return new Verdict.Observe(next, attempt, worldSize, ready);
  }

  /** When an unfinished job exceeds its activeDeadlineSeconds, or null. */
  public static Instant deadline(MixedPrecisionJobStatus status, RunPolicySpec policy) {
    if (policy.activeDeadlineSeconds == null || status.startTime == null) {
      return null;
    }
    return Instant.parse(status.startTime).plusSeconds(policy.activeDeadlineSeconds);
  }

  private static Instant deleteAt(MixedPrecisionJobStatus status, RunPolicySpec policy) {
    if (policy.ttlSecondsAfterFinished == null || status.completionTime == null) {
      return null;
    }
    return Instant.parse(status.completionTime).plusSeconds(policy.ttlSecondsAfterFinished);
  }

  /** A replica failed: the next attempt, or Failed once the restarts reached the backoff limit. */
  private static Verdict restartOrFail(
      MixedPrecisionJobStatus status,
      RunPolicySpec policy,
      int attempt,
      String what,
      List<Replica> current) {
    if (status.restarts >= policy.backoffLimit) {
      // A failed job keeps its finished pods, for their logs.
      return new Verdict.Fail(
          "BackoffLimitExceeded",
          what
              + "; "
              + status.restarts
              + " restarts already reached runPolicy.backoffLimit "
              + policy.backoffLimit,
          names(current, Replica::active));
    }
    // A restart frees every name for the next attempt.
    return new Verdict.Restart(
        attempt + 1, true, "ReplicaFailed", what, names(current, r -> !r.deleting()));
  }

  /**
   * The disrupted replica that explains the gang's end: the deciding one when Kubernetes disrupted
   * it; when the decider only saw a peer fail, or was deleted without failing, the lowest disrupted
   * rank; none when the decider failed on its own (that failure counts, whatever else happened).
   */
  static Optional<Replica> disrupted(Replica decider, List<Replica> current) {
    if (decider.disrupted()) {
      return Optional.of(decider);
    }
    if (decider.failed() && !decider.peerFailed()) {
      return Optional.empty();
    }
    return current.stream().filter(Replica::disrupted).min(Comparator.comparing(Replica::rank));
  }

  /**
   * ": " and the deciding replica's own reason; when it left none (killed, evicted), what the first
   * peer that saw it fail said; else nothing.
   */
  static String reason(Replica decider, List<Replica> current) {
    if (decider.trainerReason() != null) {
      return ": " + decider.trainerReason();
    }
    return current.stream()
        .filter(r -> r != decider && r.failed() && r.trainerReason() != null)
        .min(Comparator.comparing(Replica::rank))
        .map(r -> "; " + r.name() + " said: " + r.trainerReason())
        .orElse("");
  }

  private static List<String> names(List<Replica> replicas, Predicate<Replica> which) {
    return replicas.stream().filter(which).map(Replica::name).sorted().toList();
  }
}
