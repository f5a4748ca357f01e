package dev.mpj.operator;

import static dev.mpj.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.JobPhase;
import dev.mpj.operator.progress.FakeTrainer;
import dev.mpj.operator.progress.ProgressPollerTest;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * status.progress, lastCheckpoint and parity follow rank 0's /progress, and a hung trainer delays
 * nothing.
 */
class ProgressStatusTest {

  @Test
  void aDeletedJobLeavesNothingInTheOperatorsMemory() {
    try (MockCluster cluster = MockCluster.start();
        FakeTrainer trainer = new FakeTrainer("unset")) {
      OperatorSettings settings =
          OperatorSettings.defaults()
              .withProgressInterval(Duration.ofSeconds(1))
              .withPorts(29500, trainer.port());
      try (MpjOperator operator = MpjOperator.start(cluster.client, settings)) {
        cluster.apply(MockCluster.quickstart("digits"));
        eventually(() -> assertThat(cluster.pods("digits")).hasSize(2));
        trainer.token.set(cluster.token("digits"));
        trainer.body.set(ProgressPollerTest.REPORT);
        cluster.pods("digits").forEach(p -> cluster.markRunning(p, "127.0.0.1"));
        eventually(
            Duration.ofSeconds(30),
            () -> assertThat(cluster.job("digits").getStatus().progress).isNotNull());
        assertThat(operator.jobsKeptInMemory()).isEqualTo(1);

        cluster.client.resource(cluster.job("digits")).delete();
        eventually(() -> assertThat(operator.jobsKeptInMemory()).isZero());
      }
    }
  }

  @Test
  void statusFollowsRankZeroAndAHungTrainerDoesNotBlockReconciling() {
    try (MockCluster cluster = MockCluster.start();
        FakeTrainer trainer = new FakeTrainer("unset")) {
      OperatorSettings settings =
          OperatorSettings.defaults()
              .withProgressInterval(Duration.ofSeconds(1))
              .withPorts(29500, trainer.port());
      try (MpjOperator operator = MpjOperator.start(cluster.client, settings)) {
        cluster.apply(MockCluster.quickstart("digits"));
        eventually(() -> assertThat(cluster.pods("digits")).hasSize(2));
        trainer.token.set(cluster.token("digits"));
        trainer.body.set(ProgressPollerTest.REPORT);
        cluster.pods("digits").forEach(p -> cluster.markRunning(p, "127.0.0.1"));

        eventually(
            Duration.ofSeconds(30),
            () -> {
              var status = cluster.job("digits").getStatus();
              assertThat(status.progress).isNotNull();
              assertThat(status.progress.step).isEqualTo(120L);
              assertThat(status.progress.loss).isEqualTo(0.75);
              assertThat(status.lastCheckpoint.step).isEqualTo(100L);
              assertThat(status.parity.relativeGap).isEqualTo(0.013);
            });
        assertThat(
                GangLifecycleTest.condition(cluster.job("digits"), "PrecisionParity").getStatus())
            .isEqualTo("True");
        assertThat(trainer.refused.get()).isZero();

        trainer.delay.set(Duration.ofSeconds(20));
        trainer.body.set("{\"step\":200}");
        cluster.markExited(cluster.pods("digits").get(1), 1);
        eventually(
            Duration.ofSeconds(10),
            () -> assertThat(cluster.job("digits").getStatus().restarts).isEqualTo(1));
        assertThat(cluster.job("digits").getStatus().phase)
            .isIn(JobPhase.Restarting, JobPhase.Pending);
        assertThat(cluster.events("digits"))
            .anySatisfy(e -> assertThat(e.getMessage()).contains("restarting from step 100"));
        trainer.delay.set(Duration.ZERO);
      }
    }
  }

  @Test
  void aSucceededJobShowsRankZerosFinalReportFromItsTerminationMessage() {
    try (MockCluster cluster = MockCluster.start()) {
      // No trainer answers /progress on this port: the final figures come from the pod's status
      // alone.
      OperatorSettings settings =
          OperatorSettings.defaults()
              .withProgressInterval(Duration.ofSeconds(1))
              .withPorts(29500, 1);
      try (MpjOperator operator = MpjOperator.start(cluster.client, settings)) {
        cluster.apply(MockCluster.quickstart("final"));
        eventually(() -> assertThat(cluster.pods("final")).hasSize(2));
        cluster.pods("final").forEach(p -> cluster.markRunning(p, "127.0.0.1"));
        eventually(
            () -> assertThat(cluster.job("final").getStatus().phase).isEqualTo(JobPhase.Running));

        finish(cluster, "final");
      }
    }
  }

  @Test
  void theFinalReportWinsOverAnOlderPoll() {
    try (MockCluster cluster = MockCluster.start();
        FakeTrainer trainer = new FakeTrainer("unset")) {
      OperatorSettings settings =
          OperatorSettings.defaults()
              .withProgressInterval(Duration.ofSeconds(1))
              .withPorts(29500, trainer.port());
      try (MpjOperator operator = MpjOperator.start(cluster.client, settings)) {
        cluster.apply(MockCluster.quickstart("polled"));
        eventually(() -> assertThat(cluster.pods("polled")).hasSize(2));
        trainer.token.set(cluster.token("polled"));
        trainer.body.set("{\"step\":196,\"totalSteps\":300,\"lastCheckpoint\":{\"step\":150}}");
        cluster.pods("polled").forEach(p -> cluster.markRunning(p, "127.0.0.1"));
        eventually(
            Duration.ofSeconds(30),
            () -> assertThat(cluster.job("polled").getStatus().progress.step).isEqualTo(196L));

        finish(cluster, "polled");
      }
    }
  }

  /** Both replicas exit 0, rank 0 with its final report: the Succeeded status shows step 300. */
  private static void finish(MockCluster cluster, String job) {
    cluster.markExited(cluster.pods(job).get(1), 0);
    cluster.markExited(cluster.pods(job).get(0), 0, FINAL_REPORT);
    eventually(
        Duration.ofSeconds(15),
        () -> {
          var status = cluster.job(job).getStatus();
          assertThat(status.phase).isEqualTo(JobPhase.Succeeded);
          assertThat(status.progress).isNotNull();
          assertThat(status.progress.step).isEqualTo(300L);
          assertThat(status.progress.totalSteps).isEqualTo(300L);
          assertThat(status.lastCheckpoint.step).isEqualTo(300L);
          assertThat(status.parity.step).isEqualTo(300L);
        });
  }

  static final String FINAL_REPORT =
      "{\"step\":300,\"totalSteps\":300,\"loss\":0.41,\"lossScale\":65536.0,\"skippedSteps\":3,"
          + "\"samplesPerSecond\":800.0,\"lastCheckpoint\":{\"step\":300,\"time\":\"2026-01-01T00:00:00Z\","
          + "\"path\":\"/var/run/mpj/checkpoints/step-00000300\"},"
          + "\"parity\":{\"step\":300,\"fp16Loss\":0.41,\"fp32Loss\":0.40,\"relativeGap\":0.01,\"withinBound\":true}}";
}
