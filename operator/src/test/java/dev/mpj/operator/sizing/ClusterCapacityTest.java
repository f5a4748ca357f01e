package dev.mpj.operator.sizing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.mpj.api.TrainerContract;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClusterCapacityTest {

  private static final long MIB = 1L << 20;

  @Test
  void smallestLabelledMemoryAndFreeGpusOfMatchingNodes() {
    List<Node> nodes =
        List.of(
            node("a100-80", "81920", 8, Map.of("pool", "train")),
            node("a100-40", "40960", 8, Map.of("pool", "train")),
            node("t4", "15360", 4, Map.of("pool", "inference")));
    List<Pod> pods =
        List.of(
            pod("running", "a100-80", "Running", 3, 0),
            pod("pending-on-node", "a100-40", "Pending", 2, 0),
            pod("done", "a100-40", "Succeeded", 8, 0),
            pod("failed", "a100-80", "Failed", 8, 0),
            pod("unbound", null, "Pending", 8, 0),
            pod("elsewhere", "t4", "Running", 1, 0));
    ClusterCapacity capacity = ClusterCapacity.observe(nodes, pods, Map.of("pool", "train"));
    // the train pool: 40,960 MiB is the smaller GPU; free (8 - 3) + (8 - 2) = 11
    assertThat(capacity).isEqualTo(new ClusterCapacity(40_960 * MIB, 11));
  }

  @Test
  void withoutASelectorEveryNodeCounts() {
    List<Node> nodes = List.of(node("a", "81920", 8, Map.of()), node("b", "15360", 4, Map.of()));
    assertThat(ClusterCapacity.observe(nodes, List.of(), null))
        .isEqualTo(new ClusterCapacity(15_360 * MIB, 12));
    assertThat(ClusterCapacity.observe(nodes, List.of(), Map.of()))
        .isEqualTo(new ClusterCapacity(15_360 * MIB, 12));
  }

  @Test
  void nodesWithoutTheLabelGiveNoMemoryAndNodesWithoutGpusNoGpus() {
    List<Node> nodes =
        List.of(node("plain", null, 0, Map.of()), node("gpu", "not-a-number", 2, Map.of()));
    assertThat(ClusterCapacity.observe(nodes, List.of(), Map.of()))
        .isEqualTo(new ClusterCapacity(null, 2));
  }

  @Test
  void noMatchingNodeMeansNoFreeGpus() {
    List<Node> nodes = List.of(node("a", "81920", 8, Map.of("pool", "train")));
    assertThat(ClusterCapacity.observe(nodes, List.of(), Map.of("pool", "other")))
        .isEqualTo(new ClusterCapacity(null, 0));
  }

  @Test
  void cordonedNodesOfferNothing() {
    Node cordoned =
        new NodeBuilder(node("a", "81920", 8, Map.of()))
            .editSpec()
            .withUnschedulable(true)
            .endSpec()
            .build();
    assertThat(ClusterCapacity.observe(List.of(cordoned), List.of(), Map.of()))
        .isEqualTo(new ClusterCapacity(null, 0));
  }

  @Test
  void initContainersCountAsTheSchedulerCountsThem() {
    List<Node> nodes = List.of(node("a", "81920", 8, Map.of()));
    // containers 1, init container 4: the pod holds max(1, 4) = 4
    assertThat(
            ClusterCapacity.observe(nodes, List.of(pod("p", "a", "Running", 1, 4)), Map.of())
                .freeGpus())
        .isEqualTo(4);
  }

  @Test
  void overcommittedNodesDoNotGoNegative() {
    List<Node> nodes = List.of(node("a", "81920", 2, Map.of()), node("b", "81920", 2, Map.of()));
    List<Pod> pods = List.of(pod("p", "a", "Running", 3, 0));
    assertThat(ClusterCapacity.observe(nodes, pods, Map.of()).freeGpus()).isEqualTo(2);
  }

  @Test
  void replicasOfSeveralGpusCountOnlyWholeReplicasPerNode() {
    // free 3 on a and 3 on b: replicas of 2 GPUs fit one on each, 4 GPUs usable, not 6
    List<Node> nodes = List.of(node("a", "81920", 4, Map.of()), node("b", "81920", 4, Map.of()));
    List<Pod> pods = List.of(pod("p", "a", "Running", 1, 0), pod("q", "b", "Running", 1, 0));
    assertThat(ClusterCapacity.observe(nodes, pods, Map.of(), 2).freeGpus()).isEqualTo(4);
    assertThat(ClusterCapacity.observe(nodes, pods, Map.of(), 1).freeGpus()).isEqualTo(6);
  }

  private static Node node(String name, String memoryMiB, int gpus, Map<String, String> labels) {
    NodeBuilder b =
        new NodeBuilder().withNewMetadata().withName(name).addToLabels(labels).endMetadata();
    if (memoryMiB != null) {
      b.editMetadata().addToLabels(TrainerContract.GPU_MEMORY_LABEL, memoryMiB).endMetadata();
    }
    return b.withNewSpec()
        .endSpec()
        .withNewStatus()
        .addToAllocatable("cpu", new Quantity("64"))
        .addToAllocatable(TrainerContract.GPU_RESOURCE, new Quantity(String.valueOf(gpus)))
        .endStatus()
        .build();
  }

  /**
   * A pod asking for {@code gpus} (as a limit, the usual way) and an init container asking for
   * {@code initGpus}.
   */
  private static Pod pod(String name, String nodeName, String phase, int gpus, int initGpus) {
    PodBuilder b =
        new PodBuilder()
            .withNewMetadata()
            .withName(name)
            .endMetadata()
            .withNewSpec()
            .withNodeName(nodeName)
            .addNewContainer()
            .withName("trainer")
            .withNewResources()
            .addToLimits(TrainerContract.GPU_RESOURCE, new Quantity(String.valueOf(gpus)))
            .endResources()
            .endContainer()
            .addNewContainer()
            .withName("sidecar")
            .withNewResources()
            .addToRequests("cpu", new Quantity("100m"))
            .endResources()
            .endContainer()
            .endSpec()
            .withNewStatus()
            .withPhase(phase)
            .endStatus();
    if (initGpus > 0) {
      b.editSpec()
          .addNewInitContainer()
          .withName("warmup")
          .withNewResources()
          .addToRequests(TrainerContract.GPU_RESOURCE, new Quantity(String.valueOf(initGpus)))
          .addToLimits(TrainerContract.GPU_RESOURCE, new Quantity(String.valueOf(initGpus)))
          .endResources()
          .endInitContainer()
          .endSpec();
    }
    return b.build();
  }
}
