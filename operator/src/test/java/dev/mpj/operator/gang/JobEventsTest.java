package dev.mpj.operator.gang;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.CheckpointStatus;
import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobStatus;
import dev.mpj.api.SizingStatus;
import dev.mpj.api.validation.Violation;
import dev.mpj.operator.MockCluster;
import dev.mpj.operator.events.JobEvent;
import dev.mpj.operator.sizing.SizingPlan;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Each decision a user cares about gets one Event; nothing else does. */
class JobEventsTest {
  private static final Instant NOW = Instant.parse("2026-01-01T12:00:00Z");
  private final MixedPrecisionJob job = MockCluster.quickstart("digits");

  private List<JobEvent> events(Verdict v, SizingPlan plan) {
    MixedPrecisionJobStatus before = job.getStatus();
    MixedPrecisionJobStatus after = JobStatuses.next(job, v, plan, null, NOW);
    job.setStatus(after);
    return JobEvents.of(before, after, v, plan);
  }

  @Test
  void aRestartSaysWhichStepItResumesFrom() {
    MixedPrecisionJobStatus s = new MixedPrecisionJobStatus();
    s.phase = JobPhase.Running;
    s.attempt = 1;
    s.lastCheckpoint = new CheckpointStatus();
    s.lastCheckpoint.step = 400L;
    job.setStatus(s);
    List<JobEvent> events =
        events(
            new Verdict.Restart(
                2, true, "ReplicaFailed", "pod digits-worker-1 failed: exit code 137", List.of()),
            null);
    assertThat(events).extracting(JobEvent::reason).containsExactly("ReplicaFailed", "Restarting");
    assertThat(events.get(1).message()).isEqualTo("restart 1: attempt 2, restarting from step 400");
  }

  @Test
  void sizingAndStartingAreAnnounced() {
    var plan = new SizingPlan(true, 2, 32, 2, new SizingStatus(), "fits");
    assertThat(events(new Verdict.Start(1, null, List.of(), false), plan))
        .extracting(JobEvent::reason)
        .containsExactly("Sized", "Started");
  }

  @Test
  void aJobThatDoesNotFitStallsAndSaysSoOnce() {
    var plan =
        new SizingPlan(
            false,
            0,
            0,
            0,
            new SizingStatus(),
            "needs 40 GiB per replica at micro-batch 1; GPUs have 16 GiB");
    List<JobEvent> first = events(new Verdict.Start(1, null, List.of(), false), plan);
    assertThat(first).extracting(JobEvent::reason).containsExactly("DoesNotFit");
    assertThat(job.getStatus().conditions)
        .anySatisfy(
            c -> {
              assertThat(c.getType()).isEqualTo("Stalled");
              assertThat(c.getStatus()).isEqualTo("True");
              assertThat(c.getMessage()).contains("40 GiB");
            });
    assertThat(events(new Verdict.Start(1, null, List.of(), false), plan)).isEmpty();
  }

  private static SizingPlan notRunning(String reason, String message) {
    SizingStatus status = new SizingStatus();
    status.reason = reason;
    status.message = message;
    return new SizingPlan(false, 0, 0, 0, status, message);
  }

  @Test
  void waitingForFreeGpusIsReconcilingWithOneNormalEventNotStalled() {
    List<JobEvent> first =
        events(
            new Verdict.Start(1, null, List.of(), false),
            notRunning("WaitingForGpus", "waiting for 16 GPUs, 8 free"));
    assertThat(first).extracting(JobEvent::reason).containsExactly("WaitingForGpus");
    assertThat(first).extracting(JobEvent::type).containsExactly("Normal");
    assertThat(job.getStatus().conditions)
        .anySatisfy(
            c -> {
              assertThat(c.getType()).isEqualTo("Reconciling");
              assertThat(c.getStatus()).isEqualTo("True");
              assertThat(c.getReason()).isEqualTo("WaitingForGpus");
              assertThat(c.getMessage()).contains("16 GPUs");
            })
        .anySatisfy(
            c -> {
              assertThat(c.getType()).isEqualTo("Stalled");
              assertThat(c.getStatus()).isEqualTo("False");
            });
    assertThat(
            events(
                new Verdict.Start(1, null, List.of(), false),
                notRunning("WaitingForGpus", "waiting for 16 GPUs, 4 free")))
        .as("the free count changes while the job waits; the wait is announced once")
        .isEmpty();
  }

  @Test
  void aBatchThatDoesNotSplitStallsWithItsOwnReason() {
    List<JobEvent> first =
        events(
            new Verdict.Start(1, null, List.of(), false),
            notRunning("BatchNotSplittable", "no replica count in 3..3 divides 64"));
    assertThat(first).extracting(JobEvent::reason).containsExactly("BatchNotSplittable");
    assertThat(first).extracting(JobEvent::type).containsExactly("Warning");
    assertThat(job.getStatus().conditions)
        .anySatisfy(
            c -> {
              assertThat(c.getType()).isEqualTo("Stalled");
              assertThat(c.getStatus()).isEqualTo("True");
              assertThat(c.getReason()).isEqualTo("BatchNotSplittable");
            });
  }

  @Test
  void anInvalidSpecIsReportedOnceUntilItChanges() {
    var v =
        new Verdict.InvalidSpec(
            List.of(new Violation("spec.training.steps", "must be at least 1 (got 0)")));
    assertThat(events(v, null)).extracting(JobEvent::type).containsExactly("Warning");
    assertThat(events(v, null)).isEmpty();
  }

  @Test
  void observingARunningGangIsQuiet() {
    events(new Verdict.Observe(JobPhase.Running, 1, 2, 2), null);
    assertThat(events(new Verdict.Observe(JobPhase.Running, 1, 2, 2), null)).isEmpty();
  }
}
