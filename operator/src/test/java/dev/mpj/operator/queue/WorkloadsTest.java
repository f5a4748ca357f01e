package dev.mpj.operator.queue;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.validation.KubernetesNames;
import dev.mpj.operator.MockCluster;
import dev.mpj.operator.OperatorSettings;
import dev.mpj.operator.gang.Replica;
import dev.mpj.operator.gang.Verdict;
import dev.mpj.operator.resources.ReplicaPods;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Kueue's Workload protocol, without a cluster. */
class WorkloadsTest {
  private static final Instant NOW = Instant.parse("2026-01-01T12:00:00Z");

  private final MixedPrecisionJob job = MockCluster.quickstart("digits");

  {
    job.getMetadata().setUid("uid-1");
    job.getMetadata().setLabels(Map.of("kueue.x-k8s.io/queue-name", "team-a"));
  }

  private static GenericKubernetesResource workload(Map<String, Object> status) {
    return new GenericKubernetesResourceBuilder()
        .withApiVersion(Workloads.API_VERSION)
        .withKind("Workload")
        .withNewMetadata()
        .withName("digits-workload")
        .endMetadata()
        .withAdditionalProperties(Map.of("status", status))
        .build();
  }

  private static Map<String, Object> condition(String type, String status, String reason) {
    return Map.of("type", type, "status", status, "reason", reason, "message", reason + " message");
  }

  private static Map<String, Object> admitted(int count) {
    return Map.of(
        "admission",
        Map.of(
            "clusterQueue",
            "cq",
            "podSetAssignments",
            List.of(
                Map.of(
                    "name",
                    "worker",
                    "count",
                    count,
                    "flavors",
                    Map.of("nvidia.com/gpu", "a100", "cpu", "a100", "memory", "default")))),
        "conditions",
        List.of(
            condition("QuotaReserved", "True", "QuotaReserved"),
            condition("Admitted", "True", "Admitted")));
  }

  @Test
  void anAdmittedWorkloadGivesTheCountAndTheFlavors() {
    Admission a = Admission.of(workload(admitted(3)));
    assertThat(a.admitted()).isTrue();
    assertThat(a.count()).isEqualTo(3);
    assertThat(a.flavors()).containsExactlyInAnyOrder("a100", "default");
    assertThat(Admission.of(null)).isEqualTo(Admission.NO_WORKLOAD);
    assertThat(Admission.NO_WORKLOAD.admitted()).isFalse();
  }

  @Test
  void anEvictedWorkloadIsNotAdmittedAndSaysWhy() {
    Map<String, Object> status = new java.util.HashMap<>(admitted(2));
    status.put(
        "conditions",
        List.of(
            condition("QuotaReserved", "True", "QuotaReserved"),
            condition("Admitted", "True", "Admitted"),
            condition("Evicted", "True", "Preempted")));
    Admission a = Admission.of(workload(status));
    assertThat(a.admitted()).isFalse();
    assertThat(a.evicted()).isTrue();
    assertThat(a.suspendReason()).isEqualTo("Evicted");
    assertThat(a.suspendMessage()).contains("Preempted").contains("newest checkpoint");
  }

  @Test
  void releasingTheQuotaClearsTheAdmission() {
    GenericKubernetesResource w = workload(new java.util.HashMap<>(admitted(2)));
    Workloads.releaseQuota(w, "stopped", NOW);
    Admission a = Admission.of(w);
    assertThat(a.quotaReserved()).isFalse();
    assertThat(a.admitted()).isFalse();
    assertThat(a.count()).isNull();
    Workloads.finish(w, true, "done", NOW);
    assertThat(Admission.of(w).finished()).isTrue();
  }

  @Test
  void theWorkloadHasOnePodSetOwnedByTheJob() {
    var pod = ReplicaPods.desired(job, 1, 4, 0, OperatorSettings.defaults());
    var spec =
        Serialization.jsonMapper()
            .valueToTree(Workloads.desired(job, pod, 4, 2, null))
            .path("spec");
    assertThat(spec.path("queueName").asText()).isEqualTo("team-a");
    assertThat(spec.at("/podSets/0/count").asInt()).isEqualTo(4);
    assertThat(spec.at("/podSets/0/minCount").asInt()).isEqualTo(2);
    assertThat(spec.has("priorityClassRef")).as("no PriorityClass, no reference").isFalse();
    var exact =
        Serialization.jsonMapper()
            .valueToTree(Workloads.desired(job, pod, 2, 2, null))
            .path("spec");
    assertThat(exact.at("/podSets/0").has("minCount")).isFalse();
  }

  @Test
  void theWorkloadNameIsValidWhateverTheJobName() {
    job.getMetadata().setName("a".repeat(250));
    String name = Workloads.name(job);
    assertThat(KubernetesNames.Rule.DNS1123_SUBDOMAIN.check(name)).isEmpty();
    assertThat(name).endsWith("-workload");
  }

  @Test
  void theFlavorsPlaceThePods() {
    GenericKubernetesResource flavor =
        new GenericKubernetesResourceBuilder()
            .withApiVersion(Workloads.API_VERSION)
            .withKind("ResourceFlavor")
            .withNewMetadata()
            .withName("a100")
            .endMetadata()
            .withAdditionalProperties(
                Map.of(
                    "spec",
                    Map.of(
                        "nodeLabels",
                        Map.of("gpu", "a100"),
                        "tolerations",
                        List.of(
                            Map.of("key", "gpu", "operator", "Exists", "effect", "NoSchedule")))))
            .build();
    Workloads.Placement placement = Workloads.placement(List.of(flavor));
    var pod = placement.apply(ReplicaPods.desired(job, 1, 2, 0, OperatorSettings.defaults()));
    assertThat(pod.getSpec().getNodeSelector()).containsEntry("gpu", "a100");
    assertThat(pod.getSpec().getTolerations())
        .contains(new Toleration("NoSchedule", "gpu", "Exists", null, null));
    MixedPrecisionJob sized =
        Admissions.admitted(job, Admission.of(workload(admitted(3))), placement);
    assertThat(sized.getSpec().replicas.min).isEqualTo(3);
    assertThat(sized.getSpec().replicas.max).isEqualTo(3);
    assertThat(sized.getSpec().template.nodeSelector).containsEntry("gpu", "a100");
    assertThat(job.getSpec().replicas.max).as("the job itself is unchanged").isEqualTo(2);
  }

  @Test
  void theControllerOwesKueueACreationAReleaseAndAFinish() {
    Verdict suspend = new Verdict.Suspend(List.of(), "Evicted", "evicted");
    assertThat(QueueStep.next(Admission.NO_WORKLOAD, List.of(), suspend, null))
        .isEqualTo(new QueueStep.Create());
    Map<String, Object> evicted = new java.util.HashMap<>(admitted(2));
    evicted.put(
        "conditions",
        List.of(
            condition("QuotaReserved", "True", "QuotaReserved"),
            condition("Evicted", "True", "Preempted")));
    Admission a = Admission.of(workload(evicted));
    Replica stopping =
        new Replica("digits-worker-0", 0, 1, 2, "s", "Running", null, null, true, null);
    assertThat(QueueStep.next(a, List.of(stopping), suspend, JobPhase.Running))
        .as("the pods must be gone first")
        .isEqualTo(new QueueStep.None());
    assertThat(QueueStep.next(a, List.of(), suspend, JobPhase.Suspended))
        .isInstanceOf(QueueStep.ReleaseQuota.class);
    Admission running = Admission.of(workload(admitted(2)));
    assertThat(
            QueueStep.next(
                running, List.of(), new Verdict.Succeed("done", List.of()), JobPhase.Running))
        .isEqualTo(new QueueStep.Finish(true, "done"));
    assertThat(
            QueueStep.next(
                running, List.of(), new Verdict.Fail("X", "failed", List.of()), JobPhase.Running))
        .isEqualTo(new QueueStep.Finish(false, "failed"));
  }
}
