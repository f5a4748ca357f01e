package dev.mpj.operator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobStatus;
import dev.mpj.api.SizingStatus;
import dev.mpj.api.validation.Violation;
import dev.mpj.operator.gang.JobStatuses;
import dev.mpj.operator.gang.Verdict;
import dev.mpj.operator.sizing.SizingPlan;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** When the reconciler looks again without an event: re-sizing lists every node and pod. */
class MixedPrecisionJobReconcilerTest {
  private static final Instant NOW = Instant.parse("2026-01-01T12:00:00Z");
  private static final Duration PROGRESS = Duration.ofSeconds(10);
  private final MixedPrecisionJob job = MockCluster.quickstart("digits");

  private Duration wakeAfterSizing(String reason) {
    SizingStatus status = new SizingStatus();
    status.reason = reason;
    status.message = reason;
    SizingPlan plan = new SizingPlan(false, 0, 0, 0, status, reason);
    Verdict start = new Verdict.Start(1, null, List.of(), false);
    MixedPrecisionJobStatus after = JobStatuses.next(job, start, plan, null, NOW);
    return MixedPrecisionJobReconciler.nextWake(job, start, after, plan, NOW, PROGRESS);
  }

  @Test
  void aJobWaitingForGpusIsSizedAgainSoon() {
    assertThat(wakeAfterSizing("WaitingForGpus"))
        .isEqualTo(MixedPrecisionJobReconciler.RETRY_SIZING);
  }

  @Test
  void aJobOnlyASpecChangeCanFixIsNotSizedAgainOnATimer() {
    assertThat(wakeAfterSizing("DoesNotFit")).isNull();
    assertThat(wakeAfterSizing("BatchNotSplittable")).isNull();
  }

  @Test
  void aStoredJobWithoutASpecStallsWithoutAWake() {
    // spec: null is stored as no spec; the validator stalls it, and nothing here may throw.
    MixedPrecisionJob noSpec = MockCluster.quickstart("no-spec");
    noSpec.setSpec(null);
    Verdict stall = new Verdict.InvalidSpec(List.of(new Violation("spec", "is required")));
    MixedPrecisionJobStatus after = JobStatuses.next(noSpec, stall, null, null, NOW);
    assertThat(MixedPrecisionJobReconciler.nextWake(noSpec, stall, after, null, NOW, PROGRESS))
        .isNull();
  }
}
