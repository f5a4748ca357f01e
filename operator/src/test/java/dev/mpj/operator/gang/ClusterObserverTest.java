package dev.mpj.operator.gang;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClusterObserverTest {

  private static Node node(String name, Map<String, String> labels, int gpus) {
    return new NodeBuilder()
        .withNewMetadata().withName(name).withLabels(labels).endMetadata()
        .withNewStatus().withAllocatable(Map.of("nvidia.com/gpu", new Quantity(Integer.toString(gpus)))).endStatus()
        .build();
  }

  private static Pod pod(String node, int gpus, String phase) {
    return new PodBuilder()
        .withNewMetadata().withName("p-" + node + gpus + phase).endMetadata()
        .withNewSpec().withNodeName(node)
        .addNewContainer().withName("c").withNewResources()
        .withRequests(Map.of("nvidia.com/gpu", new Quantity(Integer.toString(gpus)))).endResources().endContainer()
        .endSpec()
        .withNewStatus().withPhase(phase).endStatus()
        .build();
  }

  @Test
  void smallestGpuOfMatchingNodesAndTheirFreeGpus() {
    var nodes = List.of(
        node("a100", Map.of("nvidia.com/gpu.memory", "81920", "pool", "train"), 8),
        node("t4", Map.of("nvidia.com/gpu.memory", "16384", "pool", "train"), 4),
        node("other", Map.of("nvidia.com/gpu.memory", "8192", "pool", "serve"), 4));
    var pods = List.of(pod("a100", 3, "Running"), pod("t4", 1, "Succeeded"), pod("other", 4, "Running"));

    var capacity = ClusterObserver.capacity(nodes, pods, Map.of("pool", "train"));

    assertThat(capacity.nodeGpuMemoryBytes()).isEqualTo(16384L * 1024 * 1024);
    assertThat(capacity.freeGpus()).isEqualTo(8 - 3 + 4);
  }

  @Test
  void noMatchingNodeMeansNoGpuMemoryAndNoFreeGpus() {
    var capacity = ClusterObserver.capacity(List.of(node("x", Map.of(), 2)), List.of(), Map.of("pool", "train"));
    assertThat(capacity.nodeGpuMemoryBytes()).isNull();
    assertThat(capacity.freeGpus()).isZero();
  }
}
