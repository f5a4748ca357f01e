package dev.mpj.operator;

import static dev.mpj.operator.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.JobPhase;
import dev.mpj.operator.progress.FakeTrainer;
import dev.mpj.operator.progress.ProgressPollerTest;
import dev.mpj.operator.resources.JobResources;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** status.progress, lastCheckpoint and parity follow rank 0's /progress, and a hung trainer delays nothing. */
class ProgressStatusTest {

  @Test
  void statusFollowsRankZeroAndAHungTrainerDoesNotBlockReconciling() {
    try (MockCluster cluster = MockCluster.start(); FakeTrainer trainer = new FakeTrainer("unset")) {
      OperatorSettings settings =
          OperatorSettings.defaults().withProgressInterval(Duration.ofSeconds(1)).withPorts(29500, trainer.port());
      try (MpjOperator operator = MpjOperator.start(cluster.client, settings)) {
        cluster.apply(MockCluster.quickstart("digits"));
        eventually(() -> assertThat(cluster.pods("digits")).hasSize(2));
        trainer.token.set(new JobResources(cluster.client).token(cluster.job("digits")));
        trainer.body.set(ProgressPollerTest.REPORT);
        cluster.pods("digits").forEach(p -> cluster.markRunning(p, "127.0.0.1"));

        eventually(Duration.ofSeconds(30), () -> {
          var status = cluster.job("digits").getStatus();
          assertThat(status.progress).isNotNull();
          assertThat(status.progress.step).isEqualTo(120L);
          assertThat(status.progress.loss).isEqualTo(0.75);
          assertThat(status.lastCheckpoint.step).isEqualTo(100L);
          assertThat(status.parity.relativeGap).isEqualTo(0.013);
        });
        assertThat(GangLifecycleTest.condition(cluster.job("digits"), "PrecisionParity").getStatus()).isEqualTo("True");
        assertThat(trainer.refused.get()).isZero();

        trainer.delay.set(Duration.ofSeconds(20));
        trainer.body.set("{\"step\":200}");
        cluster.markExited(cluster.pods("digits").get(1), 1);
        eventually(Duration.ofSeconds(10), () -> assertThat(cluster.job("digits").getStatus().restarts).isEqualTo(1));
        assertThat(cluster.job("digits").getStatus().phase).isIn(JobPhase.Restarting, JobPhase.Pending);
        assertThat(cluster.events("digits"))
            .anySatisfy(e -> assertThat(e.getMessage()).contains("restarting from step 100"));
        trainer.delay.set(Duration.ZERO);
      }
    }
  }
}
