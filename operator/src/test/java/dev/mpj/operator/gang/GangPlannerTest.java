package dev.mpj.operator.gang;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobStatus;
import dev.mpj.api.TrainerContract;
import dev.mpj.api.validation.Violation;
import dev.mpj.operator.MockCluster;
import dev.mpj.operator.resources.ReplicaPods;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The gang's decisions, without a cluster. */
class GangPlannerTest {
  private static final Instant NOW = Instant.parse("2026-01-01T12:00:00Z");

  private final MixedPrecisionJob job = MockCluster.quickstart("digits");
  private final String shape = ReplicaPods.shape(job.getSpec());

  private Replica pod(int rank, int attempt, String phase, Integer exitCode) {
    return new Replica(
        "digits-worker-" + rank, rank, attempt, 2, shape, phase, exitCode, null, false);
  }

  private Verdict decide(JobPhase phase, int attempt, int restarts, Replica... replicas) {
    if (phase != null) {
      MixedPrecisionJobStatus s = new MixedPrecisionJobStatus();
      s.phase = phase;
      s.attempt = attempt;
      s.restarts = restarts;
      s.startTime = NOW.minusSeconds(60).toString();
      job.setStatus(s);
    }
    return GangPlanner.decide(new Observation(job, List.of(replicas), NOW, List.of()));
  }

  @Test
  void aNewJobStartsItsFirstAttempt() {
    assertThat(decide(null, 0, 0)).isEqualTo(new Verdict.Start(1, null, List.of(), false));
  }

  @Test
  void aRunningGangIsObserved() {
    assertThat(
            decide(JobPhase.Pending, 1, 0, pod(0, 1, "Running", null), pod(1, 1, "Running", null)))
        .isEqualTo(new Verdict.Observe(JobPhase.Running, 1, 2, 2));
    assertThat(
            decide(JobPhase.Pending, 1, 0, pod(0, 1, "Running", null), pod(1, 1, "Pending", null)))
        .isEqualTo(new Verdict.Observe(JobPhase.Pending, 1, 2, 1));
  }

  @Test
  void aFailedReplicaRestartsTheGangAndCountsAgainstTheBackoffLimit() {
    Verdict v =
        decide(JobPhase.Running, 1, 0, pod(0, 1, "Running", null), pod(1, 1, "Failed", 137));
    assertThat(v).isInstanceOf(Verdict.Restart.class);
    Verdict.Restart r = (Verdict.Restart) v;
    assertThat(r.nextAttempt()).isEqualTo(2);
    assertThat(r.failure()).isTrue();
    assertThat(r.podsToStop()).containsExactly("digits-worker-0", "digits-worker-1");
    assertThat(r.message()).contains("digits-worker-1").contains("exit code 137");
  }

  private Replica failed(int rank, int exitCode, String trainerReason) {
    return new Replica(
        "digits-worker-" + rank,
        rank,
        1,
        2,
        shape,
        "Failed",
        exitCode,
        "Error",
        false,
        trainerReason);
  }

  @Test
  void theReplicaThatFailedOnItsOwnDecidesAndItsReasonIsInTheMessage() {
    Replica peer =
        failed(0, TrainerContract.EXIT_REPLICAS_FAILED, "rank 0 of 2: the replicas failed: boom");
    Replica cause = failed(1, 1, "unexpected error: IllegalStateException: broken");
    Verdict.Restart r = (Verdict.Restart) decide(JobPhase.Running, 1, 0, peer, cause);
    assertThat(r.message())
        .isEqualTo(
            "pod digits-worker-1 failed: exit code 1 (Error): unexpected error:"
                + " IllegalStateException: broken");
  }

  @Test
  void aKilledReplicaWithoutAReasonIsExplainedByWhatItsPeerSaw() {
    Replica peer =
        failed(
            0,
            TrainerContract.EXIT_REPLICAS_FAILED,
            "rank 0 of 2: the replicas failed: rank 1 closed its connection");
    Replica killed = failed(1, 137, null);
    Verdict.Restart r = (Verdict.Restart) decide(JobPhase.Running, 1, 0, peer, killed);
    assertThat(r.message())
        .isEqualTo(
            "pod digits-worker-1 failed: exit code 137 (Error); digits-worker-0 said: rank 0 of 2:"
                + " the replicas failed: rank 1 closed its connection");
  }

  @Test
  void aRefusedConfigFailsTheJobWithTheTrainersReason() {
    Verdict.Fail f =
        (Verdict.Fail)
            decide(
                JobPhase.Pending,
                1,
                0,
                failed(0, 2, "invalid job: spec.data.csv.path: file not found: /data/missing.csv"),
                pod(1, 1, "Running", null));
    assertThat(f.reason()).isEqualTo("InvalidConfig");
    assertThat(f.message())
        .isEqualTo(
            "pod digits-worker-0 failed: exit code 2 (Error): the trainer refused its config; not"
                + " restarted: invalid job: spec.data.csv.path: file not found: /data/missing.csv");
  }

  @Test
  void onlyTheTrainersReasonIsTakenFromATerminationMessage() {
    assertThat(Replica.trainerReason("{\"reason\":\"a\\nb\",\"step\":3}")).isEqualTo("a b");
    assertThat(Replica.trainerReason("{\"step\":3}")).isNull();
    assertThat(Replica.trainerReason("step 3 loss 0.5\nkilled")).as("a log tail").isNull();
    assertThat(Replica.trainerReason(null)).isNull();
  }

  @Test
  void anEvictedReplicaRestartsTheGang() {
    Replica evicted =
        new Replica("digits-worker-1", 1, 1, 2, shape, "Failed", null, "Evicted", false);
    Verdict v = decide(JobPhase.Running, 1, 0, pod(0, 1, "Running", null), evicted);
    assertThat(v).isInstanceOf(Verdict.Restart.class);
    assertThat(((Verdict.Restart) v).message()).contains("Evicted");
  }

  private Replica disrupted(int rank, String phase, Integer exitCode, boolean deleting) {
    return new Replica(
        "digits-worker-" + rank,
        rank,
        1,
        2,
        shape,
        phase,
        exitCode,
        null,
        deleting,
        null,
        "PreemptionByScheduler");
  }

  @Test
  void aDisruptedReplicaRestartsTheGangWithoutSpendingTheBackoffLimit() {
    job.getSpec().runPolicy.backoffLimit = 0;
    Verdict v =
        decide(
            JobPhase.Running, 1, 0, pod(0, 1, "Running", null), disrupted(1, "Failed", 143, false));
    assertThat(v).isInstanceOf(Verdict.Restart.class);
    Verdict.Restart r = (Verdict.Restart) v;
    assertThat(r.failure()).isFalse();
    assertThat(r.reason()).isEqualTo("Disrupted");
    assertThat(r.disruption()).isEqualTo("PreemptionByScheduler");
    assertThat(r.nextAttempt()).isEqualTo(2);
    assertThat(r.podsToStop()).containsExactly("digits-worker-0", "digits-worker-1");
    assertThat(r.message()).contains("digits-worker-1").contains("PreemptionByScheduler");
  }

  @Test
  void aReplicaBeingEvictedOrOneThatSawItGoRestartsAsADisruption() {
    job.getSpec().runPolicy.backoffLimit = 0;
    Verdict draining =
        decide(
            JobPhase.Running,
            1,
            0,
            pod(0, 1, "Running", null),
            disrupted(1, "Running", null, true));
    assertThat(((Verdict.Restart) draining).disruption()).isEqualTo("PreemptionByScheduler");
    // Rank 0 failed first, but only because its peer was preempted.
    Verdict peer =
        decide(
            JobPhase.Running,
            1,
            0,
            pod(0, 1, "Failed", TrainerContract.EXIT_REPLICAS_FAILED),
            disrupted(1, "Running", null, true));
    assertThat(peer).isInstanceOf(Verdict.Restart.class);
    assertThat(((Verdict.Restart) peer).disrupted()).isTrue();
  }

  @Test
  void aFailureOfItsOwnStillCountsWhenAPeerWasDisrupted() {
    job.getSpec().runPolicy.backoffLimit = 0;
    Verdict v =
        decide(JobPhase.Running, 1, 0, pod(0, 1, "Failed", 1), disrupted(1, "Running", null, true));
    assertThat(v).isInstanceOf(Verdict.Fail.class);
    assertThat(((Verdict.Fail) v).reason()).isEqualTo("BackoffLimitExceeded");
  }

  @Test
  void permanentExitCodesFailAtOnceEvenWhenDisrupted() {
    Verdict bad =
        decide(
            JobPhase.Running, 1, 0, disrupted(0, "Failed", 2, false), pod(1, 1, "Running", null));
    assertThat(((Verdict.Fail) bad).reason()).isEqualTo("InvalidConfig");
    Verdict parity =
        decide(
            JobPhase.Running, 1, 0, disrupted(0, "Failed", 3, false), pod(1, 1, "Running", null));
    assertThat(((Verdict.Fail) parity).reason()).isEqualTo("PrecisionParity");
  }

  @Test
  void theDisruptionIsReadFromATrueDisruptionTargetCondition() {
    var preempted =
        new io.fabric8.kubernetes.api.model.PodConditionBuilder()
            .withType("DisruptionTarget")
            .withStatus("True")
            .withReason("EvictionByEvictionAPI")
            .build();
    var cleared =
        new io.fabric8.kubernetes.api.model.PodConditionBuilder()
            .withType("DisruptionTarget")
            .withStatus("False")
            .withReason("EvictionByEvictionAPI")
            .build();
    assertThat(Replica.disruption(List.of(preempted))).isEqualTo("EvictionByEvictionAPI");
    assertThat(Replica.disruption(List.of(cleared))).isNull();
    assertThat(Replica.disruption(null)).isNull();
  }

  @Test
  void aQueuedJobWaitsForAdmissionAndStopsWhenEvicted() {
    Verdict waiting =
        GangPlanner.decide(
            new Observation(
                job, List.of(), NOW, List.of(), dev.mpj.operator.queue.Admission.NO_WORKLOAD));
    assertThat(waiting).isInstanceOf(Verdict.Suspend.class);
    assertThat(((Verdict.Suspend) waiting).reason()).isEqualTo("WaitingForAdmission");
    var evicted =
        new dev.mpj.operator.queue.Admission(
            true, false, true, true, "Preempted", "by a higher priority", 2, List.of(), false);
    Verdict stop =
        GangPlanner.decide(
            new Observation(
                job,
                List.of(pod(0, 1, "Running", null), pod(1, 1, "Running", null)),
                NOW,
                List.of(),
                evicted));
    assertThat(stop).isInstanceOf(Verdict.Suspend.class);
    assertThat(stop.podsToStop()).containsExactly("digits-worker-0", "digits-worker-1");
    assertThat(((Verdict.Suspend) stop).message()).contains("Preempted");
  }

  @Test
  void aReplicaDeletedByOthersOrGoneRestartsTheGang() {
    Replica draining = new Replica("digits-worker-1", 1, 1, 2, shape, "Running", null, null, true);
    assertThat(decide(JobPhase.Running, 1, 0, pod(0, 1, "Running", null), draining))
        .isInstanceOf(Verdict.Restart.class);
    assertThat(decide(JobPhase.Running, 1, 0, pod(0, 1, "Running", null)))
        .isInstanceOf(Verdict.Restart.class);
    assertThat(decide(JobPhase.Running, 1, 0)).isInstanceOf(Verdict.Restart.class);
  }

  @Test
  void aMissingReplicaOfAStartingGangIsCreated() {
    assertThat(decide(JobPhase.Pending, 1, 0, pod(0, 1, "Pending", null)))
        .isEqualTo(new Verdict.Start(1, 2, List.of(1), false));
  }

  @Test
  void moreFailuresThanTheBackoffLimitFailTheJob() {
    job.getSpec().runPolicy.backoffLimit = 2;
    Verdict v = decide(JobPhase.Running, 3, 2, pod(0, 3, "Failed", 1), pod(1, 3, "Running", null));
    assertThat(v).isInstanceOf(Verdict.Fail.class);
    assertThat(((Verdict.Fail) v).reason()).isEqualTo("BackoffLimitExceeded");
    assertThat(v.podsToStop()).containsExactly("digits-worker-1");
  }

  @Test
  void badConfigAndParityFailuresAreNeverRestarted() {
    Verdict bad =
        decide(JobPhase.Running, 1, 0, pod(0, 1, "Failed", 2), pod(1, 1, "Running", null));
    assertThat(((Verdict.Fail) bad).reason()).isEqualTo("InvalidConfig");
    Verdict parity =
        decide(JobPhase.Running, 1, 0, pod(0, 1, "Failed", 3), pod(1, 1, "Running", null));
    assertThat(((Verdict.Fail) parity).reason()).isEqualTo("PrecisionParity");
  }

  @Test
  void rankZeroSucceedingSucceedsTheJob() {
    assertThat(
            decide(JobPhase.Running, 1, 0, pod(0, 1, "Succeeded", 0), pod(1, 1, "Running", null)))
        .isEqualTo(new Verdict.Succeed("rank 0 finished training", List.of("digits-worker-1")));
  }

  @Test
  void podsOfAnEarlierAttemptAreWaitedFor() {
    Replica old = new Replica("digits-worker-0", 0, 1, 2, shape, "Running", null, null, true);
    assertThat(decide(JobPhase.Restarting, 2, 1, old)).isEqualTo(new Verdict.AwaitStop(List.of()));
    assertThat(decide(JobPhase.Restarting, 2, 1))
        .isEqualTo(new Verdict.Start(2, null, List.of(), false));
  }

  @Test
  void theAttemptComesFromThePodsWhenTheStatusWasNotWritten() {
    assertThat(
            decide(
                JobPhase.Restarting, 1, 1, pod(0, 2, "Running", null), pod(1, 2, "Running", null)))
        .isEqualTo(new Verdict.Observe(JobPhase.Running, 2, 2, 2));
  }

  @Test
  void suspendStopsEveryPodAndResumeStartsTheNextAttempt() {
    job.getSpec().runPolicy.suspend = true;
    assertThat(
            decide(JobPhase.Running, 1, 0, pod(0, 1, "Running", null), pod(1, 1, "Running", null)))
        .isEqualTo(new Verdict.Suspend(List.of("digits-worker-0", "digits-worker-1")));
    job.getSpec().runPolicy.suspend = false;
    assertThat(decide(JobPhase.Suspended, 1, 0))
        .isEqualTo(new Verdict.Start(2, null, List.of(), true));
  }

  @Test
  void theDeadlineFailsTheJob() {
    job.getSpec().runPolicy.activeDeadlineSeconds = 30L;
    Verdict v =
        decide(JobPhase.Running, 1, 0, pod(0, 1, "Running", null), pod(1, 1, "Running", null));
    assertThat(((Verdict.Fail) v).reason()).isEqualTo("DeadlineExceeded");
    assertThat(v.podsToStop()).hasSize(2);
    job.getSpec().runPolicy.activeDeadlineSeconds = 120L;
    assertThat(
            decide(JobPhase.Running, 1, 0, pod(0, 1, "Running", null), pod(1, 1, "Running", null)))
        .isInstanceOf(Verdict.Observe.class);
  }

  @Test
  void aFinishedJobIsDeletedAfterItsTtl() {
    job.getSpec().runPolicy.ttlSecondsAfterFinished = 100;
    decide(JobPhase.Succeeded, 1, 0);
    job.getStatus().completionTime = NOW.minusSeconds(10).toString();
    Verdict v = GangPlanner.decide(new Observation(job, List.of(), NOW, List.of()));
    assertThat(v).isEqualTo(new Verdict.Finished(NOW.plusSeconds(90), List.of()));
  }

  @Test
  void aChangedShapeRestartsTheGangWithoutCountingAFailure() {
    job.getSpec().replicas.max = 4;
    Verdict v =
        decide(JobPhase.Running, 1, 0, pod(0, 1, "Running", null), pod(1, 1, "Running", null));
    assertThat(v).isInstanceOf(Verdict.Restart.class);
    assertThat(((Verdict.Restart) v).failure()).isFalse();
    assertThat(((Verdict.Restart) v).reason()).isEqualTo("Resized");
  }

  @Test
  void anInvalidSpecTouchesNothing() {
    var violations =
        List.of(new Violation("spec.training.globalBatchSize", "must be at least 1 (got 0)"));
    Verdict v =
        GangPlanner.decide(new Observation(job, List.of(pod(0, 1, "Failed", 1)), NOW, violations));
    assertThat(v).isEqualTo(new Verdict.InvalidSpec(violations));
    assertThat(v.podsToStop()).isEmpty();
  }
}
