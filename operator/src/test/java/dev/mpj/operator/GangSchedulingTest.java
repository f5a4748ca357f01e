package dev.mpj.operator;

import static dev.mpj.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mpj.api.Crd;
import dev.mpj.api.GangScheduler;
import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.SchedulingPolicySpec;
import dev.mpj.operator.queue.PodGroups;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Gang PodGroups against the mock API server with the Volcano and coscheduling PodGroup CRDs: the
 * PodGroup, the pods that join it, and minMember following a new replica count.
 */
class GangSchedulingTest {
  private MockCluster cluster;
  private MpjOperator operator;

  @BeforeEach
  void start() {
    cluster = MockCluster.start();
    cluster.installCrd("/gang/podgroups.scheduling.volcano.sh.yaml");
    cluster.installCrd("/gang/podgroups.scheduling.x-k8s.io.yaml");
    operator =
        MpjOperator.start(
            cluster.client,
            OperatorSettings.defaults().withProgressInterval(Duration.ofSeconds(1)));
  }

  @AfterEach
  void stop() {
    operator.close();
    cluster.close();
  }

  private GenericKubernetesResource group(ResourceDefinitionContext context, String name) {
    return cluster
        .client
        .genericKubernetesResources(context)
        .inNamespace(MockCluster.NS)
        .withName(name)
        .get();
  }

  /**
   * A cluster without scheduler-plugins (only Volcano's CRD): a job asking for coscheduling fails
   * at once, with a condition and an Event naming the field, and no pod waits for a scheduler that
   * is not there.
   */
  @Test
  void aJobAskingForAGangSchedulerThatIsNotThereFailsNamingTheField() {
    operator.close();
    cluster.close();
    cluster = MockCluster.start();
    cluster.installCrd("/gang/podgroups.scheduling.volcano.sh.yaml");
    operator =
        MpjOperator.start(
            cluster.client,
            OperatorSettings.defaults().withProgressInterval(Duration.ofSeconds(1)));
    MixedPrecisionJob job = MockCluster.quickstart("digits");
    job.getSpec().runPolicy.schedulingPolicy = new SchedulingPolicySpec();
    job.getSpec().runPolicy.schedulingPolicy.scheduler = GangScheduler.COSCHEDULING;
    cluster.apply(job);

    eventually(
        () -> assertThat(cluster.job("digits").getStatus().phase).isEqualTo(JobPhase.Failed));
    var failed = GangLifecycleTest.condition(cluster.job("digits"), "Failed");
    assertThat(failed.getReason()).isEqualTo("GangSchedulerUnavailable");
    assertThat(failed.getMessage())
        .startsWith("spec.runPolicy.schedulingPolicy.scheduler is coscheduling")
        .contains("scheduling.x-k8s.io/v1alpha1");
    eventually(
        () ->
            assertThat(cluster.events("digits"))
                .anySatisfy(
                    e -> {
                      assertThat(e.getType()).isEqualTo("Warning");
                      assertThat(e.getReason()).isEqualTo("GangSchedulerUnavailable");
                      assertThat(e.getMessage())
                          .contains("spec.runPolicy.schedulingPolicy.scheduler");
                    }));
    assertThat(cluster.pods("digits")).isEmpty();
  }

  @Test
  void aVolcanoGangGetsItsPodGroupAndMinMemberFollowsAResize() {
    MixedPrecisionJob job = MockCluster.quickstart("digits");
    job.getSpec().runPolicy.schedulingPolicy = new SchedulingPolicySpec();
    job.getSpec().runPolicy.schedulingPolicy.scheduler = GangScheduler.VOLCANO;
    job.getSpec().runPolicy.schedulingPolicy.queue = "research";
    job.getSpec().runPolicy.schedulingPolicy.priorityClass = "training";
    String uid = cluster.apply(job).getMetadata().getUid();

    eventually(() -> assertThat(cluster.pods("digits")).hasSize(2));
    JsonNode group =
        Serialization.jsonMapper().valueToTree(group(PodGroups.VOLCANO, "digits-gang"));
    assertThat(group.at("/metadata/ownerReferences/0/uid").asText()).isEqualTo(uid);
    assertThat(group.at("/spec/minMember").asInt()).isEqualTo(2);
    assertThat(group.at("/spec/queue").asText()).isEqualTo("research");
    assertThat(group.at("/spec/priorityClassName").asText()).isEqualTo("training");
    assertThat(group.at("/spec/minResources/nvidia.com~1gpu").asText()).isEqualTo("2");
    assertThat(group.at("/spec/minResources/memory").asText()).isEqualTo("4Gi");
    cluster
        .pods("digits")
        .forEach(
            p -> {
              assertThat(p.getSpec().getSchedulerName()).isEqualTo("volcano");
              assertThat(p.getMetadata().getAnnotations())
                  .containsEntry("scheduling.k8s.io/group-name", "digits-gang");
            });
    cluster.pods("digits").forEach(p -> cluster.markRunning(p, "10.0.0.1"));
    eventually(
        () -> assertThat(cluster.job("digits").getStatus().phase).isEqualTo(JobPhase.Running));

    // A resize: the next attempt's PodGroup asks for 4 before its pods exist.
    cluster
        .client
        .resources(MixedPrecisionJob.class)
        .inNamespace(MockCluster.NS)
        .withName("digits")
        .edit(
            j -> {
              j.getSpec().replicas.min = 4;
              j.getSpec().replicas.max = 4;
              return j;
            });
    eventually(
        () ->
            assertThat(cluster.pods("digits"))
                .hasSize(4)
                .allSatisfy(
                    p ->
                        assertThat(p.getMetadata().getLabels())
                            .containsEntry(Crd.LABEL_ATTEMPT, "2")));
    assertThat(PodGroups.minMember(group(PodGroups.VOLCANO, "digits-gang"))).isEqualTo(4);
  }

  @Test
  void aCoschedulingGangGetsItsPodGroupAndTheLabel() {
    MixedPrecisionJob job = MockCluster.quickstart("digits");
    job.getSpec().runPolicy.schedulingPolicy = new SchedulingPolicySpec();
    job.getSpec().runPolicy.schedulingPolicy.scheduler = GangScheduler.COSCHEDULING;
    job.getSpec().runPolicy.schedulingPolicy.scheduleTimeoutSeconds = 120;
    cluster.apply(job);

    eventually(() -> assertThat(cluster.pods("digits")).hasSize(2));
    JsonNode group =
        Serialization.jsonMapper().valueToTree(group(PodGroups.COSCHEDULING, "digits-gang"));
    assertThat(group.path("apiVersion").asText()).isEqualTo("scheduling.x-k8s.io/v1alpha1");
    assertThat(group.at("/spec/minMember").asInt()).isEqualTo(2);
    assertThat(group.at("/spec/scheduleTimeoutSeconds").asInt()).isEqualTo(120);
    cluster
        .pods("digits")
        .forEach(
            p ->
                assertThat(p.getMetadata().getLabels())
                    .containsEntry("scheduling.x-k8s.io/pod-group", "digits-gang"));
    assertThat(group(PodGroups.VOLCANO, "digits-gang")).isNull();
  }
}
