package dev.mpj.operator.gang;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.MixedPrecisionJobStatus;
import dev.mpj.operator.MockCluster;
import dev.mpj.operator.events.JobEvent;
import dev.mpj.operator.progress.ProgressReport;
import io.fabric8.kubernetes.api.model.Condition;
import java.io.IOException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Rank 0's health report, as /progress sends it, into status.health, TrainingHealthy and Events.
 */
class TrainingHealthConditionTest {
  private static final Instant T0 = Instant.parse("2026-01-01T12:00:00Z");
  private static final Verdict RUNNING = new Verdict.Observe(JobPhase.Running, 1, 2, 2);
  private final MixedPrecisionJob job = MockCluster.quickstart("digits");

  private static String progress(long step, String health) {
    return """
        {"step":%d,"totalSteps":300,"loss":0.4,"lossScale":1.0,"skippedSteps":3,"samplesPerSecond":100.0,
         "health":%s}
        """
        .formatted(step, health);
  }

  private MixedPrecisionJobStatus reconcile(String json, Instant at) throws IOException {
    MixedPrecisionJobStatus s =
        JobStatuses.next(job, RUNNING, null, ProgressReport.parse(json, at), at);
    job.setStatus(s);
    return s;
  }

  private static Optional<Condition> condition(MixedPrecisionJobStatus s) {
    return s.conditions.stream()
        .filter(c -> c.getType().equals(JobStatuses.TRAINING_HEALTHY))
        .findFirst();
  }

  @Test
  void aHealthyRunStaysHealthyWithOneTransitionAndNoEvent() throws IOException {
    String healthy =
        """
        {"step":%d,"healthy":true,"reasons":[],"message":"healthy over the last 100 steps",
         "stepsInWindow":100,"skippedStepsInWindow":1}
        """;
    MixedPrecisionJobStatus before = null;
    for (int i = 1; i <= 3; i++) {
      MixedPrecisionJobStatus s =
          reconcile(progress(100L * i, healthy.formatted(100 * i)), T0.plusSeconds(i));
      Condition c = condition(s).orElseThrow();
      assertThat(c.getStatus()).isEqualTo("True");
      assertThat(c.getReason()).isEqualTo("Healthy");
      assertThat(c.getLastTransitionTime()).isEqualTo(T0.plusSeconds(1).toString());
      assertThat(s.health.stepsInWindow).isEqualTo(100);
      assertThat(JobEvents.of(before, s, RUNNING, null))
          .extracting(JobEvent::reason)
          .doesNotContain("TrainingHealthy", "GradientsUnderflow");
      before = JobStatuses.copy(s);
    }
  }

  @Test
  void anUnhealthyReportSetsTheConditionFalseWithTheFirstReasonAndWarnsOnce() throws IOException {
    MixedPrecisionJobStatus healthy =
        reconcile(
            progress(
                50,
                """
                {"step":50,"healthy":true,"reasons":[],"message":"healthy so far, 50 steps"}"""),
            T0);
    MixedPrecisionJobStatus before = JobStatuses.copy(healthy);
    String unhealthy =
        """
        {"step":120,"healthy":false,"reasons":["GradientsUnderflow","SkippedStepsHigh"],
         "message":"on 90 of the last 90 applied steps a parameter's FP16 gradient was all zero",
         "stepsInWindow":100,"skippedStepsInWindow":10}""";
    MixedPrecisionJobStatus s = reconcile(progress(120, unhealthy), T0.plusSeconds(30));

    Condition c = condition(s).orElseThrow();
    assertThat(c.getStatus()).isEqualTo("False");
    assertThat(c.getReason()).isEqualTo("GradientsUnderflow");
    assertThat(c.getMessage()).contains("90 of the last 90 applied steps").contains("step 120");
    assertThat(s.health.reasons).containsExactly("GradientsUnderflow", "SkippedStepsHigh");
    assertThat(s.health.skippedStepsInWindow).isEqualTo(10);

    List<JobEvent> events = JobEvents.of(before, s, RUNNING, null);
    assertThat(events)
        .filteredOn(e -> e.reason().equals("GradientsUnderflow"))
        .singleElement()
        .satisfies(e -> assertThat(e.type()).isEqualTo("Warning"));
    MixedPrecisionJobStatus again = reconcile(progress(130, unhealthy), T0.plusSeconds(40));
    assertThat(JobEvents.of(JobStatuses.copy(s), again, RUNNING, null))
        .extracting(JobEvent::reason)
        .as("no second warning while it stays unhealthy")
        .doesNotContain("GradientsUnderflow");

    MixedPrecisionJobStatus recovered =
        reconcile(
            progress(
                300,
                """
                {"step":300,"healthy":true,"reasons":[],"message":"healthy over the last 100 steps"}"""),
            T0.plusSeconds(90));
    assertThat(condition(recovered).orElseThrow().getStatus()).isEqualTo("True");
    assertThat(JobEvents.of(JobStatuses.copy(again), recovered, RUNNING, null))
        .filteredOn(e -> e.reason().equals("TrainingHealthy"))
        .singleElement()
        .satisfies(e -> assertThat(e.type()).isEqualTo("Normal"));
  }

  @Test
  void aReportWithoutHealthLeavesNoCondition() throws IOException {
    MixedPrecisionJobStatus s =
        JobStatuses.next(
            job, RUNNING, null, ProgressReport.parse("{\"step\":5,\"totalSteps\":300}", T0), T0);
    assertThat(condition(s)).isEmpty();
    assertThat(s.health).isNull();
  }
}
