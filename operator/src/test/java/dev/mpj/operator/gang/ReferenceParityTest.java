package dev.mpj.operator.gang;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.CheckpointStatus;
import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobStatus;
import dev.mpj.api.ParityPoint;
import dev.mpj.api.ParitySpec;
import dev.mpj.api.Precision;
import dev.mpj.api.ProgressStatus;
import dev.mpj.api.ReferenceParityStatus;
import dev.mpj.api.TrainerConfig;
import dev.mpj.api.TrainerContract;
import dev.mpj.api.parity.ReferenceComparison;
import dev.mpj.operator.MockCluster;
import dev.mpj.operator.events.JobEvent;
import dev.mpj.operator.progress.ProgressReport;
import dev.mpj.operator.resources.AttemptSpec;
import dev.mpj.operator.resources.ReferenceRun;
import dev.mpj.operator.resources.ReplicaPods;
import io.fabric8.kubernetes.api.model.Condition;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * spec.parity.reference through the operator's pure decisions: the FP32 reference runs first as the
 * job's own gang (FP32 spec, reference.steps, its own checkpoints), its end starts the job's run
 * (not a failure), whose trainer gets the reference's figures; the comparison the trainer reports
 * becomes status.parity.reference, the PrecisionParity condition and an Event; exit 5 fails the job
 * with reason ParityExceeded.
 */
class ReferenceParityTest {
  private static final Instant NOW = Instant.parse("2026-01-01T12:00:00Z");
  private final MixedPrecisionJob job = MockCluster.quickstart("digits");
  private final String shape = ReplicaPods.shape(job.getSpec());

  ReferenceParityTest() {
    job.getSpec().parity = new ParitySpec();
    job.getSpec().parity.reference = new ParitySpec.Reference();
    job.getSpec().parity.reference.steps = 40;
    job.getSpec().parity.reference.windowSteps = 20;
    job.getSpec().parity.reference.action = ParitySpec.Action.FAIL;
    MixedPrecisionJobStatus s = new MixedPrecisionJobStatus();
    s.phase = JobPhase.Running;
    s.attempt = 1;
    s.startTime = NOW.minusSeconds(60).toString();
    job.setStatus(s);
  }

  private Replica pod(int rank, int attempt, String phase, Integer exitCode, String reason) {
    return new Replica(
        "digits-worker-" + rank,
        rank,
        attempt,
        2,
        shape,
        phase,
        exitCode,
        null,
        false,
        reason,
        null);
  }

  private static ParityPoint point(String run, String precision, double loss, double accuracy) {
    ParityPoint p = new ParityPoint();
    p.run = run;
    p.precision = precision;
    p.step = 40L;
    p.validationLoss = loss;
    p.validationAccuracy = accuracy;
    p.trainingLoss = loss + 0.3;
    p.windowFrom = 21L;
    p.windowTo = 40L;
    return p;
  }

  private static ProgressReport report(ReferenceParityStatus r) {
    ProgressStatus p = new ProgressStatus();
    p.step = 40L;
    p.totalSteps = 40L;
    CheckpointStatus c = new CheckpointStatus();
    c.step = 40L;
    return new ProgressReport(p, c, null, null, r, NOW);
  }

  private static Condition condition(MixedPrecisionJobStatus s, String type) {
    return s.conditions.stream().filter(c -> c.getType().equals(type)).findFirst().orElseThrow();
  }

  /** Attempt 1 (the reference) ran to its end; returns the status after that reconcile. */
  private MixedPrecisionJobStatus referenceFinishes() {
    Verdict v =
        GangPlanner.decide(
            new Observation(
                job,
                List.of(pod(0, 1, "Succeeded", 0, null), pod(1, 1, "Succeeded", 0, null)),
                NOW,
                List.of()));
    assertThat(v).isInstanceOf(Verdict.Restart.class);
    Verdict.Restart restart = (Verdict.Restart) v;
    assertThat(restart.reason()).isEqualTo("ReferenceFinished");
    assertThat(restart.failure()).as("the reference's end is not a failure").isFalse();
    assertThat(restart.nextAttempt()).isEqualTo(2);

    ReferenceParityStatus reported = new ReferenceParityStatus();
    reported.step = 40L;
    reported.reference = point(ParityPoint.REFERENCE, "fp32", 1.0, 0.70);
    MixedPrecisionJobStatus before = JobStatuses.copy(job.getStatus());
    MixedPrecisionJobStatus after = JobStatuses.next(job, v, null, report(reported), NOW);
    assertThat(JobEvents.of(before, after, v, null))
        .extracting(JobEvent::reason)
        .containsExactly("ReferenceFinished");
    job.setStatus(after);
    return after;
  }

  @Test
  void theReferenceRunsFirstInFp32ForItsStepsWithItsOwnCheckpoints() {
    assertThat(ReferenceRun.running(job)).isTrue();
    assertThat(AttemptSpec.of(job).precision).isEqualTo(Precision.FP32);
    assertThat(AttemptSpec.of(job).training.steps).isEqualTo(40);
    assertThat(AttemptSpec.of(job).training.globalBatchSize)
        .isEqualTo(job.getSpec().training.globalBatchSize);
    assertThat(AttemptSpec.of(job).training.seed).isEqualTo(job.getSpec().training.seed);
    assertThat(AttemptSpec.of(job).parity).isNull();
    TrainerConfig.ReferenceParity config = ReferenceRun.trainerConfig(job);
    assertThat(config.referenceRun).isTrue();
    assertThat(config.step).isEqualTo(40);
    assertThat(config.windowSteps).isEqualTo(20);
    assertThat(job.getSpec().precision).as("the spec is unchanged").isEqualTo(Precision.FP16_MIXED);
  }

  @Test
  void whileTheReferenceRunsAFailedReplicaRestartsAsAnyFailureDoes() {
    Verdict v =
        GangPlanner.decide(
            new Observation(
                job,
                List.of(pod(0, 1, "Failed", 1, "boom"), pod(1, 1, "Running", null, null)),
                NOW,
                List.of()));
    assertThat(v).isInstanceOf(Verdict.Restart.class);
    assertThat(((Verdict.Restart) v).failure()).isTrue();
    assertThat(((Verdict.Restart) v).reason()).isEqualTo("ReplicaFailed");
  }

  @Test
  void theReferencesEndStartsTheJobsOwnRunWithTheReferenceFigures() {
    MixedPrecisionJobStatus after = referenceFinishes();
    assertThat(after.restarts).isZero();
    assertThat(after.parity.reference.phase).isEqualTo("ReferenceFinished");
    assertThat(after.parity.reference.reference.validationAccuracy).isEqualTo(0.70);
    assertThat(after.lastCheckpoint).as("the reference's checkpoints are not the job's").isNull();
    assertThat(ReferenceRun.running(job)).isFalse();
    assertThat(AttemptSpec.of(job).precision).isEqualTo(Precision.FP16_MIXED);
    assertThat(AttemptSpec.of(job).training.steps).isEqualTo(job.getSpec().training.steps);
    TrainerConfig.ReferenceParity config = ReferenceRun.trainerConfig(job);
    assertThat(config.referenceRun).isNull();
    assertThat(config.reference.validationLoss).isEqualTo(1.0);

    // A stale poll of the reference run does not take the job back.
    ReferenceParityStatus stale = new ReferenceParityStatus();
    stale.reference = point(ParityPoint.REFERENCE, "fp32", 9.0, 0.1);
    Verdict observe = new Verdict.Observe(JobPhase.Running, 2, 2, 2);
    MixedPrecisionJobStatus later = JobStatuses.next(job, observe, null, report(stale), NOW);
    assertThat(later.parity.reference.phase).isEqualTo("ReferenceFinished");
    assertThat(later.parity.reference.reference.validationLoss).isEqualTo(1.0);
  }

  @Test
  void aComparisonWithinBoundsIsRecordedWithConditionAndEvent() {
    referenceFinishes();
    ReferenceParityStatus compared =
        ReferenceComparison.status(
            point(ParityPoint.REFERENCE, "fp32", 1.0, 0.70),
            point(ParityPoint.JOB, "fp16-mixed", 1.001, 0.70),
            job.getSpec().parity.reference);
    Verdict observe = new Verdict.Observe(JobPhase.Running, 2, 2, 2);
    MixedPrecisionJobStatus before = JobStatuses.copy(job.getStatus());
    MixedPrecisionJobStatus after = JobStatuses.next(job, observe, null, report(compared), NOW);
    assertThat(after.parity.reference.phase).isEqualTo("Compared");
    assertThat(after.parity.reference.withinBounds).isTrue();
    assertThat(after.parity.reference.candidate.validationAccuracy).isEqualTo(0.70);
    assertThat(condition(after, "PrecisionParity").getStatus()).isEqualTo("True");
    assertThat(condition(after, "PrecisionParity").getReason()).isEqualTo("ReferenceParityPassed");
    assertThat(JobEvents.of(before, after, observe, null))
        .filteredOn(e -> e.reason().equals("ReferenceParityPassed"))
        .singleElement()
        .satisfies(e -> assertThat(e.message()).contains("70.00%", "within bounds"));
  }

  @Test
  void exceededWithActionFailEndsTheJobWithParityExceeded() {
    referenceFinishes();
    ReferenceParityStatus compared =
        ReferenceComparison.status(
            point(ParityPoint.REFERENCE, "fp32", 1.0, 0.70),
            point(ParityPoint.JOB, "fp16-mixed", 2.0, 0.125),
            job.getSpec().parity.reference);
    assertThat(compared.withinBounds).isFalse();
    assertThat(compared.exceeded)
        .contains("maxAccuracyDrop", "maxRelativeLossGap (validation loss)");
    Verdict v =
        GangPlanner.decide(
            new Observation(
                job,
                List.of(
                    pod(
                        0,
                        2,
                        "Failed",
                        TrainerContract.EXIT_REFERENCE_PARITY_EXCEEDED,
                        compared.message),
                    pod(1, 2, "Running", null, null)),
                NOW,
                List.of()));
    assertThat(v).isInstanceOf(Verdict.Fail.class);
    assertThat(((Verdict.Fail) v).reason()).isEqualTo("ParityExceeded");
    assertThat(((Verdict.Fail) v).podsToStop()).containsExactly("digits-worker-1");
    MixedPrecisionJobStatus before = JobStatuses.copy(job.getStatus());
    MixedPrecisionJobStatus after = JobStatuses.next(job, v, null, report(compared), NOW);
    assertThat(after.phase).isEqualTo(JobPhase.Failed);
    assertThat(condition(after, "Failed").getReason()).isEqualTo("ParityExceeded");
    assertThat(condition(after, "PrecisionParity").getStatus()).isEqualTo("False");
    assertThat(after.parity.reference.accuracyDropPoints).isCloseTo(57.5, within());
    assertThat(JobEvents.of(before, after, v, null))
        .filteredOn(e -> e.reason().equals("ParityExceeded"))
        .allSatisfy(e -> assertThat(e.type()).isEqualTo("Warning"))
        .isNotEmpty();
  }

  @Test
  void theFp32ReferenceNeverTriggersOnDivergence() {
    job.getSpec().parity.onDivergence = ParitySpec.Divergence.FALLBACK_FP32;
    dev.mpj.api.TrainingHealthStatus h = new dev.mpj.api.TrainingHealthStatus();
    h.step = 10L;
    h.healthy = false;
    h.reasons = List.of("NonFiniteLoss");
    h.message = "inf loss";
    job.getStatus().health = h;
    Verdict v =
        GangPlanner.decide(
            new Observation(
                job,
                List.of(pod(0, 1, "Running", null, null), pod(1, 1, "Running", null, null)),
                NOW,
                List.of()));
    assertThat(v)
        .as("the reference is FP32: there is nothing to fall back from")
        .isInstanceOf(Verdict.Observe.class);
    MixedPrecisionJobStatus after = referenceFinishes();
    assertThat(after.health).as("the reference's health is not the job's").isNull();
  }

  @Test
  void afterAnFp32FallbackNoReferenceRunsAndNothingIsCompared() {
    referenceFinishes();
    job.getStatus().precisionFallback = new dev.mpj.api.PrecisionFallbackStatus();
    assertThat(ReferenceRun.running(job)).isFalse();
    assertThat(ReferenceRun.trainerConfig(job)).isNull();
  }

  private static org.assertj.core.data.Offset<Double> within() {
    return org.assertj.core.data.Offset.offset(1e-9);
  }
}
