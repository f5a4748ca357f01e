package dev.mpj.operator.gang;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobStatus;
import dev.mpj.api.ParitySpec;
import dev.mpj.api.Precision;
import dev.mpj.api.TrainerConfig;
import dev.mpj.api.TrainingHealthStatus;
import dev.mpj.operator.MockCluster;
import dev.mpj.operator.events.JobEvent;
import dev.mpj.operator.progress.ProgressReport;
import dev.mpj.operator.resources.AttemptSpec;
import dev.mpj.operator.resources.JobChildren;
import dev.mpj.operator.resources.ReplicaPods;
import dev.mpj.operator.sizing.ClusterCapacity;
import dev.mpj.operator.sizing.MemorySizer;
import dev.mpj.operator.sizing.SizingPlan;
import dev.mpj.operator.sizing.SizingSettings;
import io.fabric8.kubernetes.api.model.Condition;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * spec.parity.onDivergence on an fp16-mixed job whose rank 0 reports it unhealthy: fallback-fp32
 * restarts once in FP32 (sized and configured for FP32, not counted as a failure); fail ends the
 * job with the reason; a healthy job goes on.
 */
class DivergenceTest {
  private static final Instant NOW = Instant.parse("2026-01-01T12:00:00Z");
  private final MixedPrecisionJob job = MockCluster.quickstart("digits");
  private final String shape = ReplicaPods.shape(job.getSpec());

  private Replica pod(int rank, int attempt) {
    return new Replica(
        "digits-worker-" + rank, rank, attempt, 2, shape, "Running", null, null, false, null);
  }

  private void running(Boolean healthy, ParitySpec.Divergence onDivergence) {
    job.getSpec().parity = new ParitySpec();
    job.getSpec().parity.onDivergence = onDivergence;
    MixedPrecisionJobStatus s = new MixedPrecisionJobStatus();
    s.phase = JobPhase.Running;
    s.attempt = 1;
    s.restarts = 0;
    s.startTime = NOW.minusSeconds(60).toString();
    TrainingHealthStatus h = new TrainingHealthStatus();
    h.step = 120L;
    h.healthy = healthy;
    h.reasons = healthy ? List.of() : List.of("GradientsUnderflow");
    h.message = healthy ? "healthy over the last 100 steps" : "FP16 gradients all zero";
    s.health = h;
    job.setStatus(s);
  }

  private Verdict decide(int attempt) {
    return GangPlanner.decide(
        new Observation(job, List.of(pod(0, attempt), pod(1, attempt)), NOW, List.of()));
  }

  private static Condition condition(MixedPrecisionJobStatus s, String type) {
    return s.conditions.stream().filter(c -> c.getType().equals(type)).findFirst().orElseThrow();
  }

  @Test
  void theQuickstartIsMixed() {
    assertThat(job.getSpec().precision).isEqualTo(Precision.FP16_MIXED);
  }

  @Test
  void aHealthyRunGoesOnWhateverOnDivergenceSays() {
    for (ParitySpec.Divergence d : ParitySpec.Divergence.values()) {
      running(true, d);
      assertThat(decide(1)).isEqualTo(new Verdict.Observe(JobPhase.Running, 1, 2, 2));
    }
    running(false, null);
    assertThat(decide(1))
        .as("no onDivergence: the condition only")
        .isInstanceOf(Verdict.Observe.class);
  }

  @Test
  void fallbackRestartsOnceInFp32SizedAndConfiguredForFp32WithoutCountingAFailure() {
    running(false, ParitySpec.Divergence.FALLBACK_FP32);
    Verdict v = decide(1);
    assertThat(v).isInstanceOf(Verdict.Restart.class);
    Verdict.Restart restart = (Verdict.Restart) v;
    assertThat(restart.failure()).isFalse();
    assertThat(restart.reason()).isEqualTo("FallbackToFp32");
    assertThat(restart.nextAttempt()).isEqualTo(2);
    assertThat(restart.podsToStop()).containsExactly("digits-worker-0", "digits-worker-1");

    MixedPrecisionJobStatus before = JobStatuses.copy(job.getStatus());
    MixedPrecisionJobStatus after = JobStatuses.next(job, v, null, null, NOW);
    assertThat(after.restarts).as("not a failure").isZero();
    assertThat(after.phase).isEqualTo(JobPhase.Restarting);
    assertThat(after.precisionFallback.precision).isEqualTo("fp32");
    assertThat(after.precisionFallback.attempt).isEqualTo(2);
    assertThat(after.precisionFallback.step).isEqualTo(120L);
    assertThat(after.precisionFallback.reasons).containsExactly("GradientsUnderflow");
    assertThat(after.message).contains("falling back to FP32", "FP16 gradients all zero");
    assertThat(condition(after, "Restarting").getReason()).isEqualTo("FallbackToFp32");
    assertThat(JobEvents.of(before, after, v, null))
        .filteredOn(e -> e.reason().equals("FallbackToFp32"))
        .singleElement()
        .satisfies(e -> assertThat(e.type()).isEqualTo("Warning"));
    assertThat(JobEvents.of(before, after, v, null))
        .extracting(JobEvent::message)
        .anySatisfy(m -> assertThat(m).startsWith("FP32 fallback: attempt 2"));
    job.setStatus(after);

    // The next attempt: FP32 spec, config that resumes the mixed checkpoints, FP32 sizing.
    assertThat(AttemptSpec.of(job).precision).isEqualTo(Precision.FP32);
    assertThat(AttemptSpec.of(job).parity).isNull();
    assertThat(job.getSpec().precision)
        .as("the spec itself is unchanged")
        .isEqualTo(Precision.FP16_MIXED);
    MemorySizer sizer = new MemorySizer(SizingSettings.defaults());
    SizingPlan mixed = sizer.plan(job.getSpec(), ClusterCapacity.unknown());
    SizingPlan fp32 = sizer.plan(AttemptSpec.of(job), ClusterCapacity.unknown());
    assertThat(fp32.status().plan.precision).isEqualTo("fp32");
    assertThat(mixed.status().plan.precision).isEqualTo("fp16-mixed");
    assertThat(fp32.status().plan.bytesPerReplica)
        .as("the attempt runs on the FP32 plan that status.sizing.fp32 showed beside the mixed one")
        .isEqualTo(mixed.status().fp32.bytesPerReplica);
    assertThat(fp32.replicas()).isEqualTo(mixed.status().fp32.replicas);
    TrainerConfig config = JobChildren.trainerConfig(job, fp32);
    assertThat(config.spec.precision).isEqualTo(Precision.FP32);
    assertThat(config.resumeMixedAsFp32).isTrue();

    // Still reported unhealthy until the FP32 attempt reports: no second fallback.
    assertThat(decide(2)).isInstanceOf(Verdict.Observe.class);
  }

  @Test
  void failEndsTheJobWithTheReasonAndKeepsTheFigures() {
    running(false, ParitySpec.Divergence.FAIL);
    Verdict v = decide(1);
    assertThat(v).isInstanceOf(Verdict.Fail.class);
    assertThat(((Verdict.Fail) v).reason()).isEqualTo("TrainingUnhealthy");
    MixedPrecisionJobStatus after = JobStatuses.next(job, v, null, null, NOW);
    assertThat(after.phase).isEqualTo(JobPhase.Failed);
    assertThat(condition(after, "Failed").getReason()).isEqualTo("TrainingUnhealthy");
    assertThat(after.message).contains("step 120", "spec.parity.onDivergence: fail");
    assertThat(after.precisionFallback).isNull();
  }

  @Test
  void rankZeroStoppingAsUnhealthyFallsBackOrFailsAtOnceWithoutWaitingForAPoll() throws Exception {
    running(true, ParitySpec.Divergence.FALLBACK_FP32);
    Replica stopped =
        new Replica("digits-worker-0", 0, 1, 2, shape, "Failed", 4, "Error", false, null);
    Verdict v =
        GangPlanner.decide(new Observation(job, List.of(stopped, pod(1, 1)), NOW, List.of()));
    assertThat(v).isInstanceOf(Verdict.Restart.class);
    assertThat(((Verdict.Restart) v).reason()).isEqualTo("FallbackToFp32");
    assertThat(((Verdict.Restart) v).failure()).isFalse();
    // The final report rank 0 left says where and why; the fallback records it.
    var report =
        ProgressReport.parse(
            """
            {"step":10,"totalSteps":40,"health":{"step":10,"healthy":false,
             "reasons":["GradientsUnderflow"],"message":"gradients below FP16's range"}}""",
            NOW);
    MixedPrecisionJobStatus after = JobStatuses.next(job, v, null, report, NOW);
    assertThat(after.precisionFallback.step).isEqualTo(10L);
    assertThat(after.precisionFallback.reasons).containsExactly("GradientsUnderflow");
    assertThat(after.restarts).isZero();
    job.setStatus(after);
    Replica stoppedAgain =
        new Replica("digits-worker-0", 0, 2, 2, shape, "Failed", 4, "Error", false, null);
    assertThat(
            GangPlanner.decide(
                new Observation(job, List.of(stoppedAgain, pod(1, 2)), NOW, List.of())))
        .as("no second fallback")
        .isInstanceOf(Verdict.Fail.class);

    running(true, ParitySpec.Divergence.FAIL);
    Verdict failed =
        GangPlanner.decide(new Observation(job, List.of(stopped, pod(1, 1)), NOW, List.of()));
    assertThat(failed).isInstanceOf(Verdict.Fail.class);
    assertThat(((Verdict.Fail) failed).reason()).isEqualTo("TrainingUnhealthy");
    assertThat(((Verdict.Fail) failed).message()).contains("exit code 4", "onDivergence: fail");
  }
}
