package dev.mpj.operator.progress;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.io.IOException;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class ProgressReportTest {
  private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  @Test
  void theFinalReportWinsOverAnOlderPoll() throws IOException {
    ProgressReport polled = ProgressReport.parse("{\"step\":196,\"totalSteps\":300}", T0);
    ProgressReport last =
        ProgressReport.parse("{\"step\":300,\"totalSteps\":300}", T0.plusSeconds(4));
    assertThat(ProgressReport.newest(polled, last)).isSameAs(last);
    assertThat(ProgressReport.newest(null, last)).isSameAs(last);
    assertThat(ProgressReport.newest(polled, null)).isSameAs(polled);
    assertThat(ProgressReport.newest(null, null)).isNull();
  }

  @Test
  void aPollReadAfterTheFinishStillLosesUnlessItIsFurther() throws IOException {
    ProgressReport last = ProgressReport.parse("{\"step\":300}", T0);
    // Clocks of node and operator differ: a poll stamped later but of the same run is not newer.
    ProgressReport skewed = ProgressReport.parse("{\"step\":296}", T0.plusSeconds(1));
    assertThat(ProgressReport.newest(skewed, last)).isSameAs(last);
    // A stale message (stamped earlier, fewer steps) loses to a later poll that is further.
    ProgressReport further = ProgressReport.parse("{\"step\":310}", T0.plusSeconds(1));
    assertThat(ProgressReport.newest(further, last)).isSameAs(further);
  }

  @Test
  void theTerminationMessageOfTheTrainerContainerIsReadWithItsFinishTime() {
    Pod pod =
        terminated(
            "trainer", "{\"step\":300,\"totalSteps\":300,\"lastCheckpoint\":{\"step\":300}}");
    ProgressReport report = ProgressReport.terminated(pod, T0.plusSeconds(99)).orElseThrow();
    assertThat(report.progress().step).isEqualTo(300L);
    assertThat(report.lastCheckpoint().step).isEqualTo(300L);
    assertThat(report.receivedAt()).isEqualTo(T0);
    assertThat(report.progress().updateTime).isEqualTo(T0.toString());
  }

  @Test
  void aLogTailOrAnotherContainerOrARunningPodGiveNoReport() {
    assertThat(ProgressReport.terminated(terminated("trainer", "Traceback: out of memory"), T0))
        .isEmpty();
    assertThat(ProgressReport.terminated(terminated("trainer", "{not json"), T0)).isEmpty();
    assertThat(
            ProgressReport.terminated(
                terminated("trainer", "{\"reason\":\"invalid job: spec.data.csv.path\"}"), T0))
        .as("a failed replica's reason alone is no progress")
        .isEmpty();
    assertThat(ProgressReport.terminated(terminated("sidecar", "{\"step\":1}"), T0)).isEmpty();
    assertThat(ProgressReport.terminated(terminated("trainer", null), T0)).isEmpty();
    assertThat(
            ProgressReport.terminated(
                new PodBuilder().withNewStatus().withPhase("Running").endStatus().build(), T0))
        .isEmpty();
  }

  private static Pod terminated(String container, String message) {
    return new PodBuilder()
        .withNewStatus()
        .withPhase("Succeeded")
        .withContainerStatuses(
            new ContainerStatusBuilder()
                .withName(container)
                .withState(
                    new ContainerStateBuilder()
                        .withNewTerminated()
                        .withExitCode(0)
                        .withMessage(message)
                        .withFinishedAt(T0.toString())
                        .endTerminated()
                        .build())
                .build())
        .endStatus()
        .build();
  }
}
