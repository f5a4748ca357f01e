package dev.mpj.chart;

import static dev.mpj.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.chart.OperatorPermissions.Grant;
import dev.mpj.operator.MockCluster;
import dev.mpj.operator.MpjOperator;
import dev.mpj.operator.OperatorSettings;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Runs the real operator through every path that touches the API (sizing, a gang with a checkpoint
 * claim, a failure and gang restart, a resize, suspend and resume, an invalid spec, success, TTL
 * clean-up, leader election) and holds the requests it made against operator-permissions.yaml, from
 * which the chart renders its RBAC: every call is granted, and nothing is granted that is not
 * called.
 */
class OperatorRbacTest {
  private static final String OPERATOR_AGENT = "mpj-operator-under-test";

  @Test
  void theChartGrantsExactlyTheCallsTheOperatorMakes() throws Exception {
    Set<Grant> used = new LinkedHashSet<>();
    try (MockCluster cluster = MockCluster.start();
        // The operator gets a client of its own, told apart from the test's by its User-Agent.
        KubernetesClient operatorClient =
            cluster
                .server()
                .createClient(b -> b.editOrNewConfig().withUserAgent(OPERATOR_AGENT).endConfig())) {
      OperatorSettings settings =
          OperatorSettings.defaults()
              .withProgressInterval(Duration.ofSeconds(1))
              .withLeaderElection(
                  new OperatorSettings.LeaderElection("mpj-operator", MockCluster.NS));
      try (MpjOperator operator = MpjOperator.start(operatorClient, settings)) {
        runToTheEnd(cluster);
        used.addAll(
            ApiRequests.drain(
                cluster.server(), r -> OPERATOR_AGENT.equals(r.getHeader("User-Agent"))));
        // Not calls but needed all the same: JOSDK checks them before it elects a leader.
        used.addAll(SelfSubjectRulesReviews.LEASE_ACCESS_JOSDK_CHECKS);
        // Nor this: creating a child with blockOwnerDeletion needs update on the job's finalizers.
        used.addAll(cluster.ownerReferenceChecks().checkedFor(OPERATOR_AGENT));
      }
    }
    Set<Grant> granted = OperatorPermissions.load().allGrants();
    assertThat(sorted(used))
        .as("calls the operator made that the chart does not grant")
        .isSubsetOf(granted);
    assertThat(sorted(granted))
        .as("grants in operator-permissions.yaml that the operator never used")
        .isSubsetOf(used);
  }

  private static void runToTheEnd(MockCluster cluster) {
    // A job with a claim for its checkpoints: sized, started, one replica fails, the gang restarts.
    MixedPrecisionJob job = MockCluster.quickstart("digits");
    job.getSpec().runPolicy.ttlSecondsAfterFinished = 1;
    running(cluster, job);
    cluster.markExited(cluster.pods("digits").get(1), 1);
    eventually(() -> assertThat(cluster.job("digits").getStatus().restarts).isEqualTo(1));
    eventually(() -> assertThat(cluster.pods("digits")).hasSize(2));
    cluster.pods("digits").forEach(p -> cluster.markRunning(p, "10.0.0.2"));

    // Resized while running: the rendered config is updated and the gang restarts with 4 replicas.
    edit(
        cluster,
        "digits",
        j -> {
          j.getSpec().replicas.min = 4;
          j.getSpec().replicas.max = 4;
        });
    eventually(() -> assertThat(cluster.pods("digits")).hasSize(4));

    // Suspended and resumed.
    edit(cluster, "digits", j -> j.getSpec().runPolicy.suspend = true);
    eventually(
        () -> assertThat(cluster.job("digits").getStatus().phase).isEqualTo(JobPhase.Suspended));
    edit(cluster, "digits", j -> j.getSpec().runPolicy.suspend = false);
    eventually(() -> assertThat(cluster.pods("digits")).hasSize(4));
    cluster.pods("digits").forEach(p -> cluster.markRunning(p, "10.0.0.3"));

    // Rank 0 finishes: the job Succeeds, and its TTL deletes it with what it owns.
    Pod rankZero = cluster.pods("digits").get(0);
    cluster.markExited(rankZero, 0);
    eventually(() -> assertThat(cluster.job("digits")).isNull());

    // An invalid spec: refused in status and an Event, nothing created.
    MixedPrecisionJob broken = MockCluster.quickstart("broken");
    broken.getSpec().training.globalBatchSize = -1;
    cluster.apply(broken);
    eventually(
        () -> assertThat(cluster.job("broken").getStatus().message).contains("globalBatchSize"));
  }

  private static void running(MockCluster cluster, MixedPrecisionJob job) {
    cluster.apply(job);
    String name = job.getMetadata().getName();
    eventually(() -> assertThat(cluster.pods(name)).hasSize(2));
    cluster.pods(name).forEach(p -> cluster.markRunning(p, "10.0.0.1"));
    eventually(() -> assertThat(cluster.job(name).getStatus().phase).isEqualTo(JobPhase.Running));
  }

  /** Edits the spec as a user would, retrying when the operator's status write got there first. */
  private static void edit(MockCluster cluster, String name, Consumer<MixedPrecisionJob> change) {
    for (int attempt = 1; ; attempt++) {
      try {
        cluster
            .client
            .resources(MixedPrecisionJob.class)
            .inNamespace(MockCluster.NS)
            .withName(name)
            .edit(
                j -> {
                  change.accept(j);
                  return j;
                });
        return;
      } catch (KubernetesClientException e) {
        if (e.getCode() != 409 || attempt == 10) {
          throw e;
        }
      }
    }
  }

  private static Set<Grant> sorted(Set<Grant> grants) {
    Set<Grant> s =
        new TreeSet<>(
            (a, b) ->
                (a.apiGroup() + "/" + a.resource() + "/" + a.verb())
                    .compareTo(b.apiGroup() + "/" + b.resource() + "/" + b.verb()));
    s.addAll(grants);
    return s;
  }
}
