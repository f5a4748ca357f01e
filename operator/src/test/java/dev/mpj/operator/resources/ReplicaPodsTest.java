package dev.mpj.operator.resources;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.MixedPrecisionJob;
import dev.mpj.operator.MockCluster;
import dev.mpj.operator.OperatorSettings;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Volume;
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
}
