package dev.mpj.operator;

import static dev.mpj.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.Crd;
import dev.mpj.api.JobPhase;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.ReplicasSpec;
import dev.mpj.operator.resources.JobNames;
import dev.mpj.testing.Eventually;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Jobs with names of 1, 40, 63 and 253 characters, with a leading digit and with dots, through the
 * operator against the validating API server: every child is accepted, each gang starts, and the
 * job's full name is on every child.
 */
class JobNamesThroughOperatorTest {
  static final List<String> NAMES =
      List.of(
          "a",
          "a".repeat(36) + "-job",
          "b".repeat(59) + "-job",
          "c".repeat(249) + "-job",
          "1train",
          "v1.2.digits",
          "7." + "d".repeat(250));

  private MockCluster cluster;
  private MpjOperator operator;

  @BeforeEach
  void start() {
    cluster = MockCluster.start();
    operator =
        MpjOperator.start(
            cluster.client,
            OperatorSettings.defaults().withProgressInterval(Duration.ofSeconds(1)));
  }

  @AfterEach
  void stop() {
    if (operator != null) {
      operator.close();
    }
    cluster.close();
  }

  @Test
  void everyChildOfEveryNameIsAcceptedAndEveryGangStarts() throws Exception {
    for (String name : NAMES) {
      MixedPrecisionJob job = MockCluster.quickstart(name);
      // One replica each: the node's 8 GPUs hold all seven gangs at once.
      job.getSpec().replicas = new ReplicasSpec();
      job.getSpec().replicas.min = 1;
      job.getSpec().replicas.max = 1;
      cluster.apply(job);
    }
    for (String name : NAMES) {
      MixedPrecisionJob job = cluster.job(name);
      Pod pod =
          Eventually.await(
              Duration.ofSeconds(30),
              () -> onePod(job),
              () -> "no single pod of " + job.getMetadata().getName());
      String ns = MockCluster.NS;
      List<HasMetadata> children =
          List.of(
              pod,
              cluster.client.services().inNamespace(ns).withName(JobNames.service(job)).get(),
              cluster.client.configMaps().inNamespace(ns).withName(JobNames.configMap(job)).get(),
              cluster.client.secrets().inNamespace(ns).withName(JobNames.secret(job)).get(),
              cluster
                  .client
                  .persistentVolumeClaims()
                  .inNamespace(ns)
                  .withName(JobNames.checkpointClaim(job))
                  .get());
      for (HasMetadata child : children) {
        assertThat(child).as(name).isNotNull();
        assertThat(child.getMetadata().getAnnotations())
            .as("the job's name is recoverable from %s", child.getMetadata().getName())
            .containsEntry(Crd.ANNOTATION_JOB_NAME, name);
        assertThat(child.getMetadata().getLabels())
            .containsEntry(Crd.LABEL_JOB_NAME, JobNames.labelValue(job));
      }
      assertThat(pod.getMetadata().getName()).isEqualTo(JobNames.pod(job, 0));
      assertThat(pod.getSpec().getHostname()).isEqualTo(pod.getMetadata().getName());
      assertThat(pod.getSpec().getSubdomain()).isEqualTo(JobNames.service(job));
      assertThat(pod.getSpec().getContainers().get(0).getEnv())
          .contains(
              new EnvVar(
                  "MPJ_COORDINATOR_ADDR",
                  pod.getMetadata().getName() + "." + JobNames.service(job) + "." + ns + ".svc",
                  null),
              new EnvVar("MPJ_JOB_NAME", name, null));
      cluster.markRunning(pod, "10.0.0.1");
    }
    for (String name : NAMES) {
      eventually(
          Duration.ofSeconds(30),
          () ->
              assertThat(cluster.job(name).getStatus().phase).as(name).isEqualTo(JobPhase.Running));
      assertThat(cluster.events(name))
          .as("the API server accepted the Events about %s", name)
          .extracting(e -> e.getReason())
          .contains("Started");
    }
  }

  /** The job's one pod, found as a user would: by its owner. */
  private Pod onePod(MixedPrecisionJob job) {
    List<Pod> pods =
        cluster.client.pods().inNamespace(MockCluster.NS).list().getItems().stream()
            .filter(
                p ->
                    p.getMetadata().getOwnerReferences().stream()
                        .anyMatch(r -> r.getUid().equals(job.getMetadata().getUid())))
            .toList();
    return pods.size() == 1 ? pods.get(0) : null;
  }
}
