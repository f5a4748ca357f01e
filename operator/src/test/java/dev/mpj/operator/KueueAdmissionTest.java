package dev.mpj.operator;

import static dev.mpj.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.mpj.api.Crd;
import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.PodTemplateOverlay;
import dev.mpj.operator.queue.Workloads;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.scheduling.v1.PriorityClassBuilder;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A job in a Kueue queue, against the mock API server with Kueue's Workload and ResourceFlavor CRDs
 * and {@link KueueDouble} playing Kueue's scheduler: no pod before admission, the pods of the
 * admitted count on the admitted flavor, eviction to Suspended with the quota released,
 * re-admission at another count from the checkpoint without spending the backoff limit, Finished at
 * the end.
 */
class KueueAdmissionTest {
  private static final String JOB = "llm-finetune";
  private static final String WORKLOAD = "llm-finetune-workload";

  private MockCluster cluster;
  private KueueDouble kueue;
  private MpjOperator operator;

  @BeforeEach
  void start() {
    cluster = MockCluster.start();
    kueue = new KueueDouble(cluster);
    kueue.flavor(
        "a100",
        Map.of("gpu.example.com/type", "a100"),
        List.of(
            Map.of(
                "key", "gpu.example.com/reserved", "operator", "Exists", "effect", "NoSchedule")));
    // The flavor's nodes: the mock cluster's GPU node carries its label.
    cluster
        .client
        .nodes()
        .withName("gpu-node-1")
        .edit(
            n -> {
              n.getMetadata().getLabels().put("gpu.example.com/type", "a100");
              return n;
            });
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
    operator =
        MpjOperator.start(
            cluster.client,
            OperatorSettings.defaults()
                .withProgressInterval(Duration.ofSeconds(1))
                .withMeterRegistry(registry));
  }

  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  private double kueueDisruptions(String reason) {
    var counter =
        registry.find("mpj.disruptions").tags("source", "kueue", "reason", reason).counter();
    return counter == null ? 0 : counter.count();
  }

  @AfterEach
  void stop() {
    operator.close();
    cluster.close();
  }

  /**
   * Admission reaches the operator as a change of the Workload it watches: with a progress interval
   * of an hour nothing wakes the job on a timer, yet its pods come right after admission.
   */
  @Test
  void admissionIsSeenThroughTheWorkloadWatchNotAPoll() {
    operator.close();
    operator =
        MpjOperator.start(
            cluster.client, OperatorSettings.defaults().withProgressInterval(Duration.ofHours(1)));
    MixedPrecisionJob job = MockCluster.quickstart(JOB);
    job.getMetadata().setLabels(Map.of("kueue.x-k8s.io/queue-name", "team-a-queue"));
    cluster.apply(job);
    eventually(
        () -> {
          assertThat(kueue.workload(WORKLOAD)).isNotNull();
          assertThat(cluster.job(JOB).getStatus().phase).isEqualTo(JobPhase.Suspended);
        });
    kueue.admit(WORKLOAD, 2, "a100");
    eventually(() -> assertThat(cluster.pods(JOB)).hasSize(2));
  }

  @Test
  void aQueuedJobRunsOnlyWhileAdmittedAndResumesAfterEvictionAtTheNewCount() {
    MixedPrecisionJob job = MockCluster.quickstart(JOB);
    job.getMetadata().setLabels(Map.of("kueue.x-k8s.io/queue-name", "team-a-queue"));
    job.getSpec().replicas.min = 1;
    job.getSpec().replicas.max = 2;
    job.getSpec().runPolicy.backoffLimit = 0;
    job.getSpec().template = new PodTemplateOverlay();
    job.getSpec().template.priorityClassName = "training";
    String uid = cluster.apply(job).getMetadata().getUid();

    // Not admitted: a Workload, no pod, Suspended.
    eventually(() -> assertThat(kueue.workload(WORKLOAD)).isNotNull());
    JsonNode workload = Serialization.jsonMapper().valueToTree(kueue.workload(WORKLOAD));
    assertThat(workload.path("apiVersion").asText()).isEqualTo("kueue.x-k8s.io/v1beta2");
    assertThat(workload.at("/metadata/ownerReferences/0/uid").asText()).isEqualTo(uid);
    assertThat(workload.at("/metadata/ownerReferences/0/controller").asBoolean()).isTrue();
    assertThat(workload.at("/spec/queueName").asText()).isEqualTo("team-a-queue");
    assertThat(workload.at("/spec/podSets")).hasSize(1);
    assertThat(workload.at("/spec/podSets/0/count").asInt()).isEqualTo(2);
    assertThat(workload.at("/spec/podSets/0/minCount").asInt()).isEqualTo(1);
    JsonNode container = workload.at("/spec/podSets/0/template/spec/containers/0");
    assertThat(container.at("/resources/requests/nvidia.com~1gpu").asText()).isEqualTo("1");
    assertThat(container.at("/resources/requests/memory").asText()).isEqualTo("2Gi");
    assertThat(workload.at("/spec/priorityClassRef/name").asText()).isEqualTo("training");
    assertThat(workload.at("/spec/priority").asInt()).isEqualTo(1000);
    eventually(
        () -> {
          assertThat(cluster.job(JOB).getStatus().phase).isEqualTo(JobPhase.Suspended);
          assertThat(GangLifecycleTest.condition(cluster.job(JOB), "Suspended").getReason())
              .isEqualTo("WaitingForAdmission");
        });
    assertThat(cluster.pods(JOB)).isEmpty();

    // Admitted with 2 on the a100 flavor: the pods go there.
    kueue.admit(WORKLOAD, 2, "a100");
    eventually(
        () ->
            assertThat(cluster.pods(JOB))
                .as("status: %s", cluster.job(JOB).getStatus().message)
                .hasSize(2));
    for (Pod pod : cluster.pods(JOB)) {
      assertThat(pod.getSpec().getNodeSelector()).containsEntry("gpu.example.com/type", "a100");
      assertThat(pod.getSpec().getTolerations())
          .contains(new Toleration("NoSchedule", "gpu.example.com/reserved", "Exists", null, null));
    }
    cluster.pods(JOB).forEach(p -> cluster.markRunning(p, "10.0.0.1"));
    eventually(() -> assertThat(cluster.job(JOB).getStatus().phase).isEqualTo(JobPhase.Running));
    int attempt = cluster.job(JOB).getStatus().attempt;

    // Evicted: the pods stop, the job is Suspended with Kueue's reason, the quota is released.
    kueue.evict(WORKLOAD, "Preempted", "Preempted to accommodate a higher priority Workload");
    eventually(() -> assertThat(cluster.pods(JOB)).isEmpty());
    eventually(
        () -> {
          MixedPrecisionJob suspended = cluster.job(JOB);
          assertThat(suspended.getStatus().phase).isEqualTo(JobPhase.Suspended);
          var condition = GangLifecycleTest.condition(suspended, "Suspended");
          assertThat(condition.getReason()).isEqualTo("Evicted");
          assertThat(condition.getMessage()).contains("Preempted");
        });
    eventually(
        () -> {
          GenericKubernetesResource released = kueue.workload(WORKLOAD);
          assertThat(KueueDouble.condition(released, Workloads.QUOTA_RESERVED)).isEqualTo("False");
          assertThat(KueueDouble.condition(released, Workloads.ADMITTED)).isEqualTo("False");
          assertThat(
                  Serialization.jsonMapper()
                      .valueToTree(released)
                      .at("/status/admission")
                      .isMissingNode())
              .isTrue();
        });

    assertThat(kueueDisruptions("Preempted")).as("one eviction, counted once").isEqualTo(1.0);

    // Re-admitted with 1 replica: the next attempt, from the checkpoint, no failure counted.
    kueue.admit(WORKLOAD, 1, "a100");
    eventually(() -> assertThat(cluster.pods(JOB)).hasSize(1));
    Pod only = cluster.pods(JOB).get(0);
    assertThat(only.getMetadata().getLabels())
        .containsEntry(Crd.LABEL_ATTEMPT, Integer.toString(attempt + 1));
    cluster.markRunning(only, "10.0.0.2");
    eventually(() -> assertThat(cluster.job(JOB).getStatus().phase).isEqualTo(JobPhase.Running));
    MixedPrecisionJob resumed = cluster.job(JOB);
    assertThat(resumed.getStatus().replicas).isEqualTo(1);
    assertThat(resumed.getStatus().restarts).isZero();
    assertThat(resumed.getStatus().sizing).isNotNull();
    assertThat(resumed.getStatus().restartHistory)
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.reason).isEqualTo("Suspended");
              assertThat(r.suspension).isEqualTo("Evicted");
              assertThat(r.message).contains("Preempted").endsWith("with 1 replica");
            });
    assertThat(kueueDisruptions("Preempted")).isEqualTo(1.0);

    // Finished: the Workload is Finished too.
    cluster.markExited(cluster.pods(JOB).get(0), 0);
    eventually(() -> assertThat(cluster.job(JOB).getStatus().phase).isEqualTo(JobPhase.Succeeded));
    eventually(
        () ->
            assertThat(KueueDouble.condition(kueue.workload(WORKLOAD), Workloads.FINISHED))
                .isEqualTo("True"));
  }
}
