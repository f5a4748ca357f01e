package dev.mpj.operator.resources;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.JobFiles;
import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.api.validation.SpecValidator;
import dev.mpj.operator.MockCluster;
import dev.mpj.operator.OperatorSettings;
import io.fabric8.kubernetes.api.model.EnvFromSourceBuilder;
import io.fabric8.kubernetes.api.model.EnvVarBuilder;
import io.fabric8.kubernetes.api.model.LocalObjectReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Volume;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReplicaPodsTest {
  private final MixedPrecisionJob job = MockCluster.quickstart("digits");
  private final OperatorSettings settings = OperatorSettings.defaults();

  {
    job.getMetadata().setUid("uid-1");
  }

  @Test
  void overlayLabelsCannotReplaceMpjLabelsAndSchedulingPassesThrough() {
    job.getSpec().template.labels = Map.of("mpj.dev/attempt", "99", "team", "vision");
    job.getSpec().template.nodeSelector = Map.of("pool", "train");
    job.getSpec().template.priorityClassName = "high";
    Pod pod = ReplicaPods.desired(job, 3, 2, 1, settings);
    assertThat(pod.getMetadata().getLabels())
        .containsEntry("mpj.dev/attempt", "3")
        .containsEntry("team", "vision");
    assertThat(pod.getSpec().getNodeSelector()).containsEntry("pool", "train");
    assertThat(pod.getSpec().getPriorityClassName()).isEqualTo("high");
    assertThat(pod.getSpec().getSchedulerName()).isNull();
  }

  @Test
  void theTrainerLeavesItsFinalReportAtTheDefaultTerminationMessagePath() {
    var container = ReplicaPods.desired(job, 1, 2, 0, settings).getSpec().getContainers().get(0);
    assertThat(container.getTerminationMessagePath()).isEqualTo("/dev/termination-log");
    assertThat(container.getTerminationMessagePolicy()).isEqualTo("File");
    assertThat(container.getEnv())
        .anySatisfy(
            e -> {
              assertThat(e.getName()).isEqualTo("MPJ_TERMINATION_MESSAGE_PATH");
              assertThat(e.getValue()).isEqualTo("/dev/termination-log");
            });
  }

  @Test
  void rankZeroAloneMountsTheCheckpointClaim() {
    Pod rank0 = ReplicaPods.desired(job, 1, 2, 0, settings);
    Pod rank1 = ReplicaPods.desired(job, 1, 2, 1, settings);
    assertThat(rank0.getSpec().getVolumes())
        .filteredOn(v -> v.getName().equals("checkpoints"))
        .singleElement()
        .satisfies(
            v ->
                assertThat(v.getPersistentVolumeClaim().getClaimName())
                    .isEqualTo("digits-checkpoints"));
    assertThat(rank1.getSpec().getVolumes())
        .extracting(Volume::getName)
        .doesNotContain("checkpoints");
  }

  @Test
  void anExistingClaimIsUsedAndNoneIsCreated() {
    job.getSpec().checkpoint.volume.size = null;
    job.getSpec().checkpoint.volume.claimName = "shared-ckpt";
    Pod rank0 = ReplicaPods.desired(job, 1, 2, 0, settings);
    assertThat(rank0.getSpec().getVolumes())
        .filteredOn(v -> v.getName().equals("checkpoints"))
        .singleElement()
        .satisfies(
            v -> assertThat(v.getPersistentVolumeClaim().getClaimName()).isEqualTo("shared-ckpt"));
    assertThat(JobChildren.checkpointClaim(job)).isNull();
  }

  @Test
  void aCpuJobRequestsNoGpuAndTheDefaultImageFillsIn() {
    job.getSpec().resources.gpusPerReplica = 0;
    job.getSpec().image = null;
    Pod pod =
        ReplicaPods.desired(job, 1, 2, 0, settings.withDefaultImage("registry/mpj-trainer:9"));
    var c = pod.getSpec().getContainers().get(0);
    assertThat(c.getResources().getRequests()).doesNotContainKey("nvidia.com/gpu");
    assertThat(c.getImage()).isEqualTo("registry/mpj-trainer:9");
    assertThat(c.getCommand()).containsExactly("mpj-trainer");
    assertThat(c.getArgs())
        .containsExactly("train", "--config", "$(MPJ_CONFIG)", "--output", "$(MPJ_OUTPUT_DIR)");
    assertThat(c.getPorts())
        .anySatisfy(
            p -> {
              assertThat(p.getName()).isEqualTo("metrics");
              assertThat(p.getContainerPort()).isEqualTo(9400);
            });
  }

  @Test
  void theWritableMountsAreTmpOutputAndCheckpoints() {
    Pod pod = ReplicaPods.desired(job, 1, 2, 0, settings);
    assertThat(pod.getSpec().getContainers().get(0).getVolumeMounts())
        .filteredOn(m -> !Boolean.TRUE.equals(m.getReadOnly()))
        .extracting(m -> m.getMountPath())
        .containsExactlyInAnyOrder("/tmp", "/var/run/mpj/output", "/var/run/mpj/checkpoints");
  }

  /**
   * docs/examples/digits-csv-pvc.yaml as the operator renders it: the data claim mounted where the
   * CSV path points, the spreading, and what else a platform team sets, beside the contract.
   */
  @Test
  void theTemplatePassesVolumesEnvPullSecretsRuntimeClassSpreadingAndResources() throws Exception {
    MixedPrecisionJob fromCsv = JobFiles.read(example("digits-csv-pvc.yaml"));
    fromCsv.getMetadata().setNamespace("analytics");
    fromCsv.getMetadata().setUid("uid-2");
    var t = fromCsv.getSpec().template;
    t.env =
        List.of(new EnvVarBuilder().withName("HTTPS_PROXY").withValue("http://proxy:3128").build());
    t.envFrom =
        List.of(new EnvFromSourceBuilder().withNewSecretRef("s3-credentials", false).build());
    t.imagePullSecrets = List.of(new LocalObjectReference("registry-pull"));
    t.runtimeClassName = "nvidia";
    t.resources = Map.of("rdma/hca_shared_devices_a", new Quantity("1"));
    assertThat(SpecValidator.validate(fromCsv)).isEmpty();

    for (int rank : new int[] {0, 1}) {
      Pod pod = ReplicaPods.desired(fromCsv, 1, 2, rank, settings);
      var spec = pod.getSpec();
      var c = spec.getContainers().get(0);
      assertThat(spec.getVolumes())
          .filteredOn(v -> v.getName().equals("data"))
          .singleElement()
          .satisfies(
              v ->
                  assertThat(v.getPersistentVolumeClaim().getClaimName()).isEqualTo("digits-data"));
      assertThat(c.getVolumeMounts())
          .filteredOn(m -> m.getName().equals("data"))
          .singleElement()
          .satisfies(
              m -> {
                assertThat(fromCsv.getSpec().data.csv.path).startsWith(m.getMountPath() + "/");
                assertThat(m.getReadOnly()).isTrue();
              });
      // The contract's folders are still the operator's.
      assertThat(c.getVolumeMounts())
          .extracting(m -> m.getMountPath())
          .contains("/etc/mpj", "/var/run/mpj/output", "/tmp");
      assertThat(c.getEnv()).extracting(e -> e.getName()).contains("HTTPS_PROXY", "MPJ_RANK");
      assertThat(c.getEnvFrom())
          .extracting(e -> e.getSecretRef().getName())
          .containsExactly("s3-credentials");
      assertThat(spec.getImagePullSecrets())
          .extracting(r -> r.getName())
          .containsExactly("registry-pull");
      assertThat(spec.getRuntimeClassName()).isEqualTo("nvidia");
      assertThat(spec.getTopologySpreadConstraints())
          .singleElement()
          .satisfies(
              s -> {
                assertThat(s.getTopologyKey()).isEqualTo("topology.kubernetes.io/zone");
                // The example's selector matches the pods the operator makes.
                assertThat(pod.getMetadata().getLabels())
                    .containsAllEntriesOf(s.getLabelSelector().getMatchLabels());
              });
      // Extended resources: requests equal limits, beside the sized GPU.
      assertThat(c.getResources().getRequests())
          .containsEntry("rdma/hca_shared_devices_a", new Quantity("1"))
          .containsEntry("nvidia.com/gpu", new Quantity("1"));
      assertThat(c.getResources().getLimits()).isEqualTo(c.getResources().getRequests());
    }
  }

  private static Path example(String name) {
    Path dir = Path.of("").toAbsolutePath();
    while (!Files.isDirectory(dir.resolve("docs/examples"))) {
      dir = dir.getParent();
    }
    return dir.resolve("docs/examples").resolve(name);
  }
}
