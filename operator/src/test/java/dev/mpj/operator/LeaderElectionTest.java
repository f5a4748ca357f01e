package dev.mpj.operator;

import static dev.mpj.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.mpj.api.JobPhase;
import dev.mpj.chart.OperatorPermissions;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Two operator replicas with leader election: one reconciles; when it goes, the other takes over.
 * The mock answers JOSDK's access check with the rules the chart grants, as a real API server does.
 */
class LeaderElectionTest {
  private static OperatorSettings electing() {
    return OperatorSettings.defaults()
        .withProgressInterval(Duration.ofSeconds(1))
        .withLeaderElection(
            new OperatorSettings.LeaderElection(
                "mpj-operator",
                MockCluster.NS,
                Duration.ofSeconds(2),
                Duration.ofMillis(1500),
                Duration.ofMillis(200)));
  }

  @Test
  void withoutUpdateOnLeasesTheOperatorRefusesToStart() {
    OperatorPermissions chartWithoutUpdate =
        OperatorPermissions.load().without("coordination.k8s.io", "leases", "update");
    try (MockCluster cluster = MockCluster.start(chartWithoutUpdate)) {
      assertThatThrownBy(() -> MpjOperator.start(cluster.client, electing()).close())
          .hasStackTraceContaining("update");
    }
  }

  @Test
  void theFollowerTakesOverWhenTheLeaderStops() {
    try (MockCluster cluster = MockCluster.start()) {
      OperatorSettings settings = electing();
      MpjOperator first = MpjOperator.start(cluster.client, settings);
      eventually(
          () ->
              assertThat(
                      cluster
                          .client
                          .leases()
                          .inNamespace(MockCluster.NS)
                          .withName("mpj-operator")
                          .get())
                  .isNotNull());
      try (MpjOperator second = MpjOperator.start(cluster.client, settings)) {
        cluster.apply(MockCluster.quickstart("digits"));
        eventually(() -> assertThat(cluster.pods("digits")).hasSize(2));
        String leader =
            cluster
                .client
                .leases()
                .inNamespace(MockCluster.NS)
                .withName("mpj-operator")
                .get()
                .getSpec()
                .getHolderIdentity();

        first.close();
        cluster.pods("digits").forEach(p -> cluster.markRunning(p, "10.0.0.1"));
        eventually(
            Duration.ofSeconds(30),
            () -> assertThat(cluster.job("digits").getStatus().phase).isEqualTo(JobPhase.Running));
        assertThat(
                cluster
                    .client
                    .leases()
                    .inNamespace(MockCluster.NS)
                    .withName("mpj-operator")
                    .get()
                    .getSpec()
                    .getHolderIdentity())
            .isNotEqualTo(leader);
        assertThat(cluster.pods("digits")).hasSize(2);
        assertThat(cluster.events("digits").stream().filter(e -> "Started".equals(e.getReason())))
            .hasSize(1);
      }
    }
  }
}
