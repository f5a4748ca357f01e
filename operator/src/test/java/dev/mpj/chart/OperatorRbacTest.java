package dev.mpj.chart;

import static dev.mpj.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.GangScheduler;
import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.PodTemplateOverlay;
import dev.mpj.api.SchedulingPolicySpec;
import dev.mpj.chart.OperatorPermissions.Grant;
import dev.mpj.operator.KueueDouble;
import dev.mpj.operator.MockCluster;
import dev.mpj.operator.MpjOperator;
import dev.mpj.operator.OperatorSettings;
import dev.mpj.operator.queue.Workloads;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.scheduling.v1.PriorityClassBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Runs the real operator through every path that touches the API (sizing, a gang with a checkpoint
 * claim, a failure and gang restart, a resize, suspend and resume, an invalid spec, success, TTL
 * clean-up, leader election, a job queued in Kueue from admission to its Workload finished) and
 * holds the requests it made against operator-permissions.yaml, from which the chart renders its
 * RBAC: every call is granted, and nothing is granted that is not called.
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
      // Kueue is installed: the operator finds it at start-up.
      KueueDouble kueue = new KueueDouble(cluster);
      cluster.installCrd("/gang/podgroups.scheduling.volcano.sh.yaml");
      cluster.installCrd("/gang/podgroups.scheduling.x-k8s.io.yaml");
      try (MpjOperator operator = MpjOperator.start(operatorClient, settings)) {
        runToTheEnd(cluster);
        queuedToTheEnd(cluster, kueue);
        gangResized(cluster, "volcano-job", GangScheduler.VOLCANO);
        gangResized(cluster, "cosched-job", GangScheduler.COSCHEDULING);
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

  /**
   * A job in a Kueue queue: its Workload, admission on a flavor with a PriorityClass, eviction and
   * the quota released, re-admission, success and the Workload finished.
   */
  private static void queuedToTheEnd(MockCluster cluster, KueueDouble kueue) {
    kueue.flavor("default-flavor", Map.of(), List.of());
    cluster
        .client
        .scheduling()
        .v1()
        .priorityClasses()
        .resource(
            new PriorityClassBuilder()
                .withNewMetadata()
                .withName("training")
                .endMetadata()
                .withValue(1000)
                .build())
        .create();
    MixedPrecisionJob job = MockCluster.quickstart("queued");
    job.getMetadata().setLabels(Map.of("kueue.x-k8s.io/queue-name", "team-a-queue"));
    job.getSpec().template = new PodTemplateOverlay();
    job.getSpec().template.priorityClassName = "training";
    cluster.apply(job);
    eventually(() -> assertThat(kueue.workload("queued-workload")).isNotNull());
    kueue.admit("queued-workload", 2, "default-flavor");
    eventually(() -> assertThat(cluster.pods("queued")).hasSize(2));
    kueue.evict("queued-workload", "Preempted", "preempted");
    eventually(
        () ->
            assertThat(
                    KueueDouble.condition(
                        kueue.workload("queued-workload"), Workloads.QUOTA_RESERVED))
                .isEqualTo("False"));
    kueue.admit("queued-workload", 2, "default-flavor");
    eventually(() -> assertThat(cluster.pods("queued")).hasSize(2));
    cluster.pods("queued").forEach(p -> cluster.markRunning(p, "10.0.0.5"));
    eventually(
        () -> assertThat(cluster.job("queued").getStatus().phase).isEqualTo(JobPhase.Running));
    cluster.markExited(cluster.pods("queued").get(0), 0);
    eventually(
        () ->
            assertThat(KueueDouble.condition(kueue.workload("queued-workload"), Workloads.FINISHED))
                .isEqualTo("True"));
  }

  /** A gang-scheduled job: its PodGroup created, then its minMember changed by a resize. */
  private static void gangResized(MockCluster cluster, String name, GangScheduler scheduler) {
    MixedPrecisionJob job = MockCluster.quickstart(name);
    job.getSpec().runPolicy.schedulingPolicy = new SchedulingPolicySpec();
    job.getSpec().runPolicy.schedulingPolicy.scheduler = scheduler;
    cluster.apply(job);
    eventually(() -> assertThat(cluster.pods(name)).hasSize(2));
    edit(
        cluster,
        name,
        j -> {
          j.getSpec().replicas.min = 4;
          j.getSpec().replicas.max = 4;
        });
    eventually(() -> assertThat(cluster.pods(name)).hasSize(4));
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
