package dev.mpj.operator.gang;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.JobFiles;
import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobStatus;
import dev.mpj.operator.MockCluster;
import dev.mpj.operator.sizing.ClusterCapacity;
import dev.mpj.operator.sizing.MemorySizer;
import dev.mpj.operator.sizing.SizingSettings;
import io.fabric8.kubernetes.api.model.Condition;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** kstatus conditions and counters, without a cluster. */
class JobStatusesTest {
  private static final Instant T0 = Instant.parse("2026-01-01T12:00:00Z");
  private final MixedPrecisionJob job = MockCluster.quickstart("digits");

  {
    job.getMetadata().setGeneration(3L);
  }

  private MixedPrecisionJobStatus apply(Verdict v, Instant at) {
    var plan =
        new MemorySizer(SizingSettings.defaults()).plan(job.getSpec(), ClusterCapacity.unknown());
    MixedPrecisionJobStatus s = JobStatuses.next(job, v, plan, null, at);
    job.setStatus(s);
    return s;
  }

  private static Condition get(MixedPrecisionJobStatus s, String type) {
    return s.conditions.stream().filter(c -> c.getType().equals(type)).findFirst().orElseThrow();
  }

  @Test
  void theFirstReconcileWritesReadyReconcilingAndStalled() {
    MixedPrecisionJobStatus s = apply(new Verdict.Start(1, null, List.of(), false), T0);
    assertThat(s.phase).isEqualTo(JobPhase.Pending);
    assertThat(s.observedGeneration).isEqualTo(3L);
    assertThat(get(s, "Ready").getStatus()).isEqualTo("False");
    assertThat(get(s, "Reconciling").getStatus()).isEqualTo("True");
    assertThat(get(s, "Stalled").getStatus()).isEqualTo("False");
    assertThat(s.startTime).isEqualTo(T0.toString());
    assertThat(s.replicas).isEqualTo(2);
    assertThat(s.sizing).isNotNull();
  }

  // Found by mpj bench operator: every job's status was written a second time, right after the
  // start, only to say "0 of 2 replicas running" instead of "starting 2 pods".
  @Test
  void seeingNoPodRunningYetLeavesTheStatusOfTheStartAsItWas() {
    MixedPrecisionJobStatus started = apply(new Verdict.Start(1, null, List.of(), false), T0);
    String written = JobFiles.toYaml(started);
    MixedPrecisionJobStatus observed =
        apply(new Verdict.Observe(JobPhase.Pending, 1, 2, 0), T0.plusSeconds(1));
    assertThat(JobFiles.toYaml(observed)).isEqualTo(written);
    observed = apply(new Verdict.Observe(JobPhase.Pending, 1, 2, 1), T0.plusSeconds(2));
    assertThat(observed.message).isEqualTo("1 of 2 replicas running (attempt 1)");
    assertThat(observed.readyReplicas).isEqualTo(1);
  }

  // Found by ApiServerFaultsTest: the status write of the reconcile that created the pods failed,
  // and every reconcile after it observed the pods and never set startTime.
  @Test
  void aStartTimeLostWithAFailedStatusWriteIsSetOnceThePodsAreObserved() {
    MixedPrecisionJobStatus s = apply(new Verdict.Observe(JobPhase.Pending, 1, 2, 0), T0);
    assertThat(s.startTime).isEqualTo(T0.toString());
    s = apply(new Verdict.Observe(JobPhase.Running, 1, 2, 2), T0.plusSeconds(30));
    assertThat(s.startTime).as("kept once set").isEqualTo(T0.toString());
  }

  @Test
  void aStartTimeLostWithAFailedStatusWriteIsSetWhenMissingPodsAreCreated() {
    MixedPrecisionJobStatus s = apply(new Verdict.Start(1, 2, List.of(1), false), T0);
    assertThat(s.startTime).isEqualTo(T0.toString());
  }

  @Test
  void aConditionKeepsItsTransitionTimeWhileItsStatusHolds() {
    apply(new Verdict.Observe(JobPhase.Running, 1, 2, 2), T0);
    MixedPrecisionJobStatus s =
        apply(new Verdict.Observe(JobPhase.Running, 1, 2, 2), T0.plusSeconds(50));
    assertThat(get(s, "Ready").getLastTransitionTime()).isEqualTo(T0.toString());
    s =
        apply(
            new Verdict.Restart(2, true, "ReplicaFailed", "pod x failed", List.of()),
            T0.plusSeconds(60));
    assertThat(get(s, "Ready").getStatus()).isEqualTo("False");
    assertThat(get(s, "Ready").getLastTransitionTime()).isEqualTo(T0.plusSeconds(60).toString());
    assertThat(get(s, "Restarting").getStatus()).isEqualTo("True");
  }

  @Test
  void onlyFailuresCountAsRestarts() {
    MixedPrecisionJobStatus s =
        apply(new Verdict.Restart(2, true, "ReplicaFailed", "pod x failed", List.of()), T0);
    assertThat(s.restarts).isEqualTo(1);
    assertThat(s.attempt).isEqualTo(2);
    s = apply(new Verdict.Restart(3, false, "Resized", "resized", List.of()), T0);
    assertThat(s.restarts).isEqualTo(1);
    assertThat(s.attempt).isEqualTo(3);
  }

  @Test
  void disruptionsAreCountedApartFromRestartsWithTheirReason() {
    apply(new Verdict.Restart(2, true, "ReplicaFailed", "pod x failed", List.of()), T0);
    MixedPrecisionJobStatus s =
        apply(
            new Verdict.Restart(
                3,
                false,
                "Disrupted",
                "pod y failed (Kubernetes disrupted it: PreemptionByScheduler)",
                List.of(),
                "PreemptionByScheduler"),
            T0.plusSeconds(5));
    assertThat(s.restarts).isEqualTo(1);
    assertThat(s.disruptions).isEqualTo(1);
    assertThat(s.attempt).isEqualTo(3);
    assertThat(s.restartHistory)
        .extracting(r -> r.reason, r -> r.disruption)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("ReplicaFailed", null),
            org.assertj.core.groups.Tuple.tuple("Disrupted", "PreemptionByScheduler"));
  }

  @Test
  void eachRestartIsKeptWithItsReasonTheLastTenOnly() {
    for (int attempt = 1; attempt <= 12; attempt++) {
      apply(
          new Verdict.Restart(
              attempt + 1, true, "ReplicaFailed", "pod x failed: reason " + attempt, List.of()),
          T0.plusSeconds(attempt));
    }
    MixedPrecisionJobStatus s = job.getStatus();
    assertThat(s.restartHistory).hasSize(MixedPrecisionJobStatus.RESTART_HISTORY_LIMIT);
    assertThat(s.restartHistory.get(0).attempt).as("the oldest two were dropped").isEqualTo(3);
    var last = s.restartHistory.get(9);
    assertThat(last.attempt).isEqualTo(12);
    assertThat(last.reason).isEqualTo("ReplicaFailed");
    assertThat(last.message).isEqualTo("pod x failed: reason 12");
    assertThat(last.time).isEqualTo(T0.plusSeconds(12).toString());
  }

  @Test
  void failingStallsWithTheReason() {
    MixedPrecisionJobStatus s =
        apply(new Verdict.Fail("DeadlineExceeded", "too long", List.of()), T0);
    assertThat(s.phase).isEqualTo(JobPhase.Failed);
    assertThat(s.completionTime).isEqualTo(T0.toString());
    assertThat(get(s, "Stalled").getStatus()).isEqualTo("True");
    assertThat(get(s, "Stalled").getReason()).isEqualTo("DeadlineExceeded");
    assertThat(get(s, "Failed").getStatus()).isEqualTo("True");
  }

  @Test
  void aResumeAfterASuspensionJoinsTheHistoryWithItsReasonAndCountsNothing() {
    apply(new Verdict.Start(1, null, List.of(), false), T0);
    apply(new Verdict.Observe(JobPhase.Running, 1, 2, 2), T0.plusSeconds(10));
    apply(
        new Verdict.Suspend(List.of("digits-worker-0"), "Evicted", "evicted by Kueue (Preempted)"),
        T0.plusSeconds(20));
    MixedPrecisionJobStatus s =
        apply(new Verdict.Start(2, null, List.of(), true), T0.plusSeconds(30));
    assertThat(s.restarts).isZero();
    assertThat(s.disruptions).isZero();
    assertThat(s.restartHistory)
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.attempt).isEqualTo(1);
              assertThat(r.reason).isEqualTo("Suspended");
              assertThat(r.suspension).isEqualTo("Evicted");
              assertThat(r.time).isEqualTo(T0.plusSeconds(30).toString());
              assertThat(r.message)
                  .isEqualTo("evicted by Kueue (Preempted); resumed as attempt 2 with 2 replicas");
            });
    assertThat(get(s, "Suspended").getStatus()).isEqualTo("False");
  }

  @Test
  void resumingRestartsTheDeadlineClock() {
    apply(new Verdict.Start(1, null, List.of(), false), T0);
    MixedPrecisionJobStatus s =
        apply(new Verdict.Start(2, null, List.of(), true), T0.plusSeconds(600));
    assertThat(s.startTime).isEqualTo(T0.plusSeconds(600).toString());
  }
}
