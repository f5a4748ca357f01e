package dev.mpj.operator.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJobStatus;
import dev.mpj.operator.gang.Verdict;
import dev.mpj.operator.queue.Admission;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which decisions count in mpj_disruptions_total, with which source and reason. */
class DisruptionTest {
  private static final Admission EVICTED =
      new Admission(
          true, false, true, true, "Preempted", "by a higher priority", 2, List.of(), false);

  private static MixedPrecisionJobStatus status(JobPhase phase, String suspendedReason) {
    MixedPrecisionJobStatus s = new MixedPrecisionJobStatus();
    s.phase = phase;
    if (suspendedReason != null) {
      s.conditions.add(
          new ConditionBuilder()
              .withType("Suspended")
              .withStatus("True")
              .withReason(suspendedReason)
              .build());
    }
    return s;
  }

  @Test
  void aDisruptedPodCountsWithItsDisruptionTargetReason() {
    var restart =
        new Verdict.Restart(3, false, "Disrupted", "pod x", List.of(), "EvictionByEvictionAPI");
    assertThat(Disruption.of(status(JobPhase.Running, null), restart, null))
        .contains(new Disruption("pod", "EvictionByEvictionAPI"));
  }

  @Test
  void aFailureOrAResizeIsNoDisruption() {
    assertThat(
            Disruption.of(
                status(JobPhase.Running, null),
                new Verdict.Restart(2, true, "ReplicaFailed", "pod x failed", List.of()),
                null))
        .isEmpty();
    assertThat(
            Disruption.of(
                status(JobPhase.Running, null),
                new Verdict.Restart(2, false, "Resized", "resized", List.of()),
                null))
        .isEmpty();
  }

  @Test
  void aKueueEvictionCountsOnceWithKueuesReason() {
    var suspend = new Verdict.Suspend(List.of(), "Evicted", "evicted by Kueue (Preempted)");
    assertThat(Disruption.of(status(JobPhase.Running, null), suspend, EVICTED))
        .contains(new Disruption("kueue", "Preempted"));
    assertThat(Disruption.of(status(JobPhase.Suspended, "Evicted"), suspend, EVICTED))
        .as("the reconciles while it stays evicted")
        .isEmpty();
    assertThat(Disruption.of(status(JobPhase.Suspended, "WaitingForAdmission"), suspend, EVICTED))
        .as("evicted while it was still waiting for its first admission")
        .contains(new Disruption("kueue", "Preempted"));
    var waiting = new Verdict.Suspend(List.of(), "WaitingForAdmission", "waiting");
    Admission notAdmitted =
        new Admission(true, false, false, false, null, null, null, List.of(), false);
    assertThat(Disruption.of(status(JobPhase.Pending, null), waiting, notAdmitted)).isEmpty();
  }
}
